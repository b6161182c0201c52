import { STATUS_CODES } from 'node:http';
import { isGrpcServiceError } from '@temporalio/client';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { noRouteDetail, requestFaultOf, sendProblem, type RequestFaultKind } from '../http/problem';
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
  next(new HttpProblem(404, 'Not found', noRouteDetail(request)));
};

/** The API's titles for what the HTTP stack refused; each title is a problem type of problem-types.ts. */
const requestFaultTitles: Record<RequestFaultKind, string | undefined> = {
  'malformed-json': 'Malformed JSON',
  'body-too-large': 'Body too large',
  'unsupported-encoding': 'Unsupported encoding',
  'body-ended-early': 'Request aborted',
  // The status code's own phrase: the router's client errors are rare and need no page of their own.
  'malformed-request': undefined,
};

function fromRequestFault(error: unknown): HttpProblem | undefined {
  const fault = requestFaultOf(error);
  if (!fault) return undefined;
  const title = requestFaultTitles[fault.kind] ?? STATUS_CODES[fault.status] ?? 'Bad request';
  return new HttpProblem(fault.status, title, fault.detail);
}

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

/** Last in the chain: every error becomes problem+json with the request's id; a 5xx is logged, a 503 says when to retry. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const problem =
      error instanceof HttpProblem
        ? error
        : (fromRequestFault(error) ??
          fromTemporal(error) ??
          new HttpProblem(500, 'Internal error', 'The server failed to handle the request; it has been logged'));
    const context = maybeRequestContextOf(request);
    if (problem.status >= 500) {
      (context?.log ?? logger).error({ err: error, method: request.method, path: request.path }, 'request failed');
    }
    if (problem.status === 503 && !response.headersSent) {
      response.setHeader('Retry-After', String(retryAfterUnavailableSeconds));
    }
    sendProblem(response, {
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
