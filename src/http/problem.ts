import type { Response } from 'express';

/** RFC 9457's media type: every error answer of the API, the codec server and the partner simulators is one. */
export const problemContentType = 'application/problem+json';

/** An RFC 9457 problem document: the standard members, plus the extension members of whoever answers. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

/** Sends a problem document; a response already under way (a streamed body) can only be ended. */
export function sendProblem(response: Response, document: ProblemDocument): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.status(document.status).type(problemContentType).json(document);
}

/** What the HTTP stack itself refused before any route ran. Always the client's mistake, so never logged as a failure. */
export type RequestFaultKind =
  'malformed-json' | 'body-too-large' | 'unsupported-encoding' | 'body-ended-early' | 'malformed-request';

export interface RequestFault {
  kind: RequestFaultKind;
  /** The status to answer: body-parser's, or the router's (a 4xx). */
  status: number;
  /** One sentence for the problem's detail. */
  detail: string;
}

/**
 * The client's mistake behind an error of the HTTP stack, if it is one: body-parser's errors carry a `type`, and
 * other client errors (http-errors style) a 4xx `status`, such as the router's URIError for a path segment that is
 * not valid percent-encoding. Each server names the fault in its own problem vocabulary.
 */
export function requestFaultOf(error: unknown): RequestFault | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  switch ((error as { type?: unknown }).type) {
    case 'entity.parse.failed':
      return { kind: 'malformed-json', status: 400, detail: 'The request body is not valid JSON' };
    case 'entity.too.large':
      return { kind: 'body-too-large', status: 413, detail: 'The request body exceeds the size limit' };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return { kind: 'unsupported-encoding', status: 415, detail: 'Send the body as UTF-8 JSON' };
    case 'request.aborted':
    case 'request.size.invalid':
      return { kind: 'body-ended-early', status: 400, detail: 'The request body ended before its announced length' };
  }
  const status = (error as { status?: unknown }).status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const detail = error instanceof URIError ? 'The URL is not valid percent-encoding' : 'The request is malformed';
  return { kind: 'malformed-request', status, detail };
}

/** The detail of a 404 for a path no route takes. */
export function noRouteDetail(request: { method: string; path: string }): string {
  return `No route for ${request.method} ${request.path}`;
}
