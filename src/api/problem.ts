import { STATUS_CODES } from 'node:http';
import { isGrpcServiceError } from '@temporalio/client';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { problemTypeOf } from './problem-types';
import { maybeRequestContextOf } from './request-id';

export interface FieldError {
  /** A JSON path into the request body or a header name, e.g. items.0.quantity. */
  field: string;
  message: string;
}

/**
 * An error with an HTTP answer. Every error response is RFC 9457
 * problem+json, so clients parse one shape for every failure; it carries the
 * request's id (the X-Request-Id header) as the extension member `requestId`,
 * so a client can quote it in a support request.
 */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extension members (RFC 9457 §3.2), e.g. the order's state when the problem is about the order. */
    readonly extensions?: { state?: unknown },
  ) {
    super(detail);
  }
}

/** Seconds a client should wait before repeating a request answered 503: about the API's own 5 s deadline. */
export const retryAfterUnavailableSeconds = 5;

export const notFoundRoute: RequestHandler = (request, _response, next) => {
  next(new HttpProblem(404, 'Not found', `No route for ${request.method} ${request.path}`));
};

/** Errors thrown by body-parser carry `type` and `status`; they are the client's mistakes. */
function fromBodyParser(error: unknown): HttpProblem | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch (error.type) {
    case 'entity.parse.failed':
      return new HttpProblem(400, 'Malformed JSON', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new HttpProblem(413, 'Body too large', 'The request body exceeds the size limit');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpProblem(415, 'Unsupported encoding', 'Send the body as UTF-8 JSON');
    case 'request.aborted':
      return new HttpProblem(400, 'Request aborted', 'The client aborted the request');
    default:
      return undefined;
  }
}

/**
 * Other errors the HTTP stack marks as the client's (http-errors style: a 4xx
 * `status`), e.g. the router's URIError for a path segment that is not valid
 * percent-encoding.
 */
function fromClientError(error: unknown): HttpProblem | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const detail = error instanceof URIError ? 'The URL is not valid percent-encoding' : 'The request is malformed';
  return new HttpProblem(status, STATUS_CODES[status] ?? 'Bad request', detail);
}

/** gRPC status codes that mean Temporal could not be reached or did not answer in time. */
/** Temporal busy or away: the client's answer is to try again shortly (RESOURCE_EXHAUSTED is its rate limiting). */
const unavailableCodes = new Set([4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 14 /* UNAVAILABLE */]);

function fromTemporal(error: unknown): HttpProblem | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  for (const candidate of [error, cause]) {
    if (isGrpcServiceError(candidate) && unavailableCodes.has(candidate.code)) {
      return new HttpProblem(503, 'Service unavailable', 'Temporal did not answer; try again shortly');
    }
  }
  return undefined;
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const problem =
      error instanceof HttpProblem
        ? error
        : (fromBodyParser(error) ??
          fromClientError(error) ??
          fromTemporal(error) ??
          new HttpProblem(500, 'Internal error', 'The server failed to handle the request; it has been logged'));
    const context = maybeRequestContextOf(request);
    if (problem.status >= 500) {
      (context?.log ?? logger).error({ err: error, method: request.method, path: request.path }, 'request failed');
    }
    if (problem.status === 503) response.setHeader('Retry-After', String(retryAfterUnavailableSeconds));
    response
      .status(problem.status)
      .type('application/problem+json')
      .json({
        type: problemTypeOf(problem.title),
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        instance: request.originalUrl,
        ...(context ? { requestId: context.requestId } : {}),
        ...(problem.errors ? { errors: problem.errors } : {}),
        ...problem.extensions,
      });
  };
}
