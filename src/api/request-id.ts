import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';

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
  /** The API's logger with this request's id on every line. */
  log: Logger;
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
    contexts.set(request, { requestId, log });
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
      if (quietPaths.test(request.path)) log.debug(line, 'request');
      else log.info(line, 'request');
    });
    next();
  };
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
