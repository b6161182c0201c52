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

/** The methods each documented path takes, as `Allow` lists them: HEAD wherever GET is (Express answers it), OPTIONS. */
function allowedMethods(
  paths: Record<string, Partial<Record<string, unknown>>>,
): (path: string) => string[] | undefined {
  const templates = Object.entries(paths).map(([template, operations]) => {
    const methods = Object.keys(operations).map((method) => method.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    methods.push('OPTIONS');
    const pattern = template
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    return { path: new RegExp(`^${pattern}/?$`), methods };
  });
  return (path) => templates.find((template) => template.path.test(path))?.methods;
}

/**
 * OPTIONS on a documented path: 204 with `Allow` listing what the document declares for it. Express's own answer
 * would list only the methods of the first router holding the path (GET /orders and POST /orders live in two).
 * Mounted before the API keys are asked for, as browsers send it (CORS preflight) without credentials.
 */
export function answerOptions(paths: Record<string, Partial<Record<string, unknown>>>): RequestHandler {
  const methodsOf = allowedMethods(paths);
  return (request, response, next) => {
    const methods = request.method === 'OPTIONS' ? methodsOf(request.path) : undefined;
    if (!methods) {
      next();
      return;
    }
    response.setHeader('Allow', methods.join(', '));
    response.status(204).end();
  };
}

/**
 * 405 with `Allow` for a method the document does not declare on a path it declares (RFC 9110 §15.5.6), rather than
 * the 404 of a path that does not exist. Mounted after every route, so it sees only requests no route took.
 */
export function methodNotAllowed(paths: Record<string, Partial<Record<string, unknown>>>): RequestHandler {
  const methodsOf = allowedMethods(paths);
  return (request, response, next) => {
    const methods = methodsOf(request.path);
    if (!methods || methods.includes(request.method)) {
      next();
      return;
    }
    response.setHeader('Allow', methods.join(', '));
    next(
      new HttpProblem(405, 'Method not allowed', `${request.path} takes ${methods.join(', ')}, not ${request.method}`),
    );
  };
}
