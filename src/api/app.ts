import type { Tracer } from '@opentelemetry/api';
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createApiMetrics } from '../metrics/api';
import { identifyCaller, rateLimitPerCaller, requireCaller, unprotected, type Protection } from './auth';
import type { ReadinessCheck } from './health';
import { openApiDocument } from './openapi';
import { OrderRuns } from './order-runs';
import type { ReadModel } from './order-views';
import { Placement, type RecordedOrderCustomer } from './placement';
import { notFoundRoute, problemHandler } from './problem';
import { orderLogContext, requestContext } from './request-id';
import { answerOptions, methodNotAllowed, routerOf, type RouteServices } from './route';
import { routes } from './routes';
import { requestBodyLimit } from './schemas';
import { httpServerSpans } from '../telemetry/http-spans';
import type { OrderDeadlines } from '../workflows/definitions';

export interface AppDependencies {
  client: Client;
  logger: Logger;
  readinessChecks: ReadinessCheck[];
  approval: { thresholdCents: number; timeout: string };
  /** The steps' business deadlines given to each new order; without them the workflow's defaults apply. */
  deadlines?: OrderDeadlines;
  /**
   * API keys and the rate limit; src/api/server.ts always passes the
   * configured ones. Omitted (tests of other concerns): `unprotected`.
   */
  protection?: Protection;
  /** How long placements and cancellations wait for the saga before answering 202 (default 5 s). */
  answerWaitMs?: number;
  /**
   * Who an order the orders service recorded belongs to: how a key placed before keys were scoped to their customer
   * is still answered after its run is gone. src/api/server.ts passes it; omitted, only runs Temporal keeps are looked at.
   */
  recordedOrderCustomer?: RecordedOrderCustomer;
  /** The read model behind GET /orders and GET /orders/{id}/events; without it those routes do not exist. */
  readModel?: ReadModel;
  /** A server span per request (src/telemetry/http-spans.ts); none without. */
  tracer?: Tracer;
  /** What GET /metrics serves besides the app's own series: src/api/server.ts passes the process's; default none. */
  metricsRegistry?: Registry;
}

/** Builds the HTTP app; src/api/server.ts makes it listen. */
export function createApp({
  client,
  logger,
  readinessChecks,
  approval,
  deadlines,
  protection = unprotected,
  answerWaitMs,
  recordedOrderCustomer,
  readModel,
  tracer,
  metricsRegistry,
}: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Before everything else: the span covers the whole request, and its context is active for what the routes call.
  if (tracer) app.use(httpServerSpans(tracer));
  // First of all, so every answer (the body parser's refusals included) carries X-Request-Id.
  app.use(requestContext(logger));
  // The ids of the order the path names on the request's lines, 401s and refused bodies included.
  app.use(orderLogContext());
  const metrics = createApiMetrics({ client, ...(readModel && { outboxes: readModel.serviceDbs }) }, metricsRegistry);
  app.use(metrics.timeRequests);
  const orders = new OrderRuns(client, answerWaitMs);
  const services: RouteServices = {
    orders,
    placement: new Placement(orders, {
      approval,
      ...(deadlines && { deadlines }),
      ...(recordedOrderCustomer && { recordedOrderCustomer }),
    }),
    readinessChecks,
    ...(readModel && { readModel }),
    metrics,
    document: openApiDocument,
  };
  // Before the callers are identified: Prometheus scrapes without an API key and is not rate-limited.
  app.use(
    routerOf(
      routes.filter((route) => route.beforeCallers),
      services,
    ),
  );
  app.use(answerOptions(routes));
  // Before the body is read: an unknown caller costs a hash, a counted request and a 401, no parsing.
  // The limit comes before the 401, so guessing keys is limited too (per IP).
  app.use(identifyCaller(protection.auth));
  app.use(rateLimitPerCaller(protection.rateLimitPerMinute));
  app.use('/orders', requireCaller);
  // Only JSON bodies are parsed; a route that needs one answers 415 to any other type.
  app.use(express.json({ limit: requestBodyLimit, strict: true }));
  app.use(
    routerOf(
      routes.filter((route) => !route.beforeCallers),
      services,
    ),
  );
  app.use(methodNotAllowed(routes));
  app.use(notFoundRoute);
  app.use(problemHandler(logger));
  return app;
}
