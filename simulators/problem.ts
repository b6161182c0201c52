import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { noRouteDetail, requestFaultOf, sendProblem as sendHttpProblem } from '../src/http/problem';
import type { Charge, PartnerProblem } from '../src/partners/contract';

/**
 * A partner's error answer: RFC 9457 problem+json in the shape of the
 * contract's partnerProblemSchema. `type` is a short machine name such as
 * `card_declined` (the contract's, not a URI), so clients switch on it.
 */
export class PartnerError extends Error {
  override name = 'PartnerError';
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly charge?: Charge,
  ) {
    super(detail);
  }

  toProblem(): PartnerProblem {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(this.charge ? { charge: this.charge } : {}),
    };
  }
}

export function invalidRequest(detail: string): PartnerError {
  return new PartnerError(400, 'invalid_request', 'Invalid request', detail);
}

/** One line naming each invalid field, for a 400's detail. */
export function describeIssues(error: z.ZodError, subject = 'body'): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : subject}: ${issue.message}`)
    .join('; ');
}

export function notFound(detail: string): PartnerError {
  return new PartnerError(404, 'not_found', 'Not found', detail);
}

export function unavailable(detail: string): PartnerError {
  return new PartnerError(503, 'unavailable', 'Service unavailable', detail);
}

export function sendProblem(response: Response, problem: PartnerError): void {
  sendHttpProblem(response, problem.toProblem());
}

/** A route that needs a JSON body answers 415 to any other (express.json leaves those unparsed). */
export const requireJsonBody: RequestHandler = (request, _response, next) => {
  if (request.is('application/json')) {
    next();
    return;
  }
  next(new PartnerError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the body as application/json'));
};

export const notFoundRoute: RequestHandler = (request, _response, next) => {
  next(notFound(noRouteDetail(request)));
};

/** The contract's problem for what the HTTP stack refused: a 400 invalid_request, but for a body's size or encoding. */
function fromRequestFault(error: unknown): PartnerError | undefined {
  const fault = requestFaultOf(error);
  if (!fault) return undefined;
  switch (fault.kind) {
    case 'body-too-large':
      return new PartnerError(413, 'request_too_large', 'Request too large', fault.detail);
    case 'unsupported-encoding':
      return new PartnerError(415, 'unsupported_media_type', 'Unsupported media type', fault.detail);
    default:
      return invalidRequest(fault.detail);
  }
}

/** Last in the chain: every error becomes a problem; only a 5xx is logged, and no answer carries a stack trace. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const problem =
      error instanceof PartnerError
        ? error
        : (fromRequestFault(error) ??
          new PartnerError(500, 'internal_error', 'Internal error', 'The request failed; it has been logged'));
    if (problem.status >= 500 && problem.status !== 503) {
      logger.error({ err: error, method: request.method, path: request.path }, 'request failed');
    }
    sendProblem(response, problem);
  };
}
