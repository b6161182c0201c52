import express from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { identifyCaller, rateLimitPerCaller, requireCaller, unprotected, type Protection } from './auth';
import { healthRouter, type ReadinessCheck } from './health';
import { openApiRouter } from './openapi';
import { orderViewsRouter, type ReadModel } from './order-views';
import { ordersRouter } from './orders';
import { notFoundRoute, problemHandler } from './problem';
import { requestContext } from './request-id';
import { requestBodyLimit } from './schemas';

export interface AppDependencies {
  client: Client;
  logger: Logger;
  readinessChecks: ReadinessCheck[];
  approval: { thresholdCents: number; timeout: string };
  /**
   * API keys and the rate limit; src/api/server.ts always passes the
   * configured ones. Omitted (tests of other concerns): `unprotected`.
   */
  protection?: Protection;
  /** How long placements and cancellations wait for the saga before answering 202 (default 5 s). */
  answerWaitMs?: number;
  /** The read model behind GET /orders and GET /orders/{id}/events; without it those routes do not exist. */
  readModel?: ReadModel;
}

/** Builds the HTTP app; src/api/server.ts makes it listen. */
export function createApp({
  client,
  logger,
  readinessChecks,
  approval,
  protection = unprotected,
  answerWaitMs,
  readModel,
}: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // First of all, so every answer (the body parser's refusals included) carries X-Request-Id.
  app.use(requestContext(logger));
  // Before the body is read: an unknown caller costs a hash, a counted request and a 401, no parsing.
  // The limit comes before the 401, so guessing keys is limited too (per IP).
  app.use(identifyCaller(protection.auth));
  app.use(rateLimitPerCaller(protection.rateLimitPerMinute));
  app.use('/orders', requireCaller);
  // Only JSON bodies are parsed; a route that needs one answers 415 to any other type.
  app.use(express.json({ limit: requestBodyLimit, strict: true }));
  app.use(healthRouter(readinessChecks));
  if (readModel) app.use(orderViewsRouter(readModel));
  app.use(ordersRouter({ client, approval, ...(answerWaitMs === undefined ? {} : { answerWaitMs }) }));
  app.use(openApiRouter());
  app.use(notFoundRoute);
  app.use(problemHandler(logger));
  return app;
}
