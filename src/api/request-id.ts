import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { addToLogContext, withLogContext, type LogContext } from '../logger';
import { orderWorkflowId } from '../temporal/names';
import { orderIdPattern } from './schemas';

/**
 * One id per HTTP request, so the request, the order's run in the Web UI (its
 * memo) and the log lines can be found from each other. A client may bring its
 * own (e.g. from its own tracing); otherwise the API makes one.
 */
export const requestIdHeader = 'X-Request-Id';

/**
 * A client's id is kept when it is printable ASCII without spaces and of a
 * sane length: it ends up in logs and in the run's memo. Anything else is
 * replaced rather than refused, since the id only helps to trace the request.
 */
const acceptableRequestId = /^[\x21-\x7e]{1,128}$/;

export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && acceptableRequestId.test(header) ? header : randomUUID();
}

export interface RequestContext {
  requestId: string;
  /**
   * The API's logger with this request's id on every line. Any pino logger of the process also gets the id (and the
   * order's, once known) on lines written while the request is handled: src/logger.ts's context.
   */
  log: Logger;
  /** What the request's lines are about; the order is added once known (orderLogContext). */
  logContext: LogContext;
}

const contexts = new WeakMap<Request, RequestContext>();

/** Health probes are polled every few seconds; their lines would drown the rest at info level. */
const quietPaths = /^\/health\//;

/**
 * Installed first, so every answer carries the header: those of the body
 * parser (400, 413, 415), unknown routes and 5xx included.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const requestId = requestIdFrom(request.get(requestIdHeader));
    const log = logger.child({ requestId });
    const logContext: LogContext = { requestId };
    contexts.set(request, { requestId, log, logContext });
    response.setHeader(requestIdHeader, requestId);
    const started = performance.now();
    response.once('close', () => {
      const line = {
        method: request.method,
        url: request.originalUrl,
        status: response.statusCode,
        durationMs: Math.round(performance.now() - started),
        ...(response.writableFinished ? {} : { aborted: true }),
      };
      // The socket's event, outside the request's context: back in it, for the order's ids.
      withLogContext(logContext, () => {
        if (quietPaths.test(request.path)) log.debug(line, 'request');
        else log.info(line, 'request');
      });
    });
    withLogContext(logContext, next);
  };
}

const orderPath = /^\/orders\/([^/]+)/;

/**
 * Puts the order a request's path names on the rest of its lines. Installed after requestContext. A placement's order
 * is known only once its caller and body are (logOrderOfRequest, from the route).
 */
export function orderLogContext(): RequestHandler {
  return (request, _response, next) => {
    const inPath = orderPath.exec(request.path)?.[1];
    if (inPath !== undefined && orderIdPattern.test(inPath)) logOrderOfRequest(request, inPath);
    next();
  };
}

/** The order's ids on the request's lines from now on, its last line included. */
export function logOrderOfRequest(request: Request, orderId: string): void {
  const order = { orderId, workflowId: orderWorkflowId(orderId) };
  addToLogContext(order);
  // Also for the request's last line, written from the socket's event (requestContext).
  Object.assign(contexts.get(request)?.logContext ?? {}, order);
}

/** The request's id and logger; set by requestContext, which createApp installs before any route. */
export function requestContextOf(request: Request): RequestContext {
  const context = contexts.get(request);
  if (!context) throw new Error('requestContext() is not installed before this handler');
  return context;
}

/** For the error handler, which must answer even for a request the middleware never saw. */
export function maybeRequestContextOf(request: Request): RequestContext | undefined {
  return contexts.get(request);
}
