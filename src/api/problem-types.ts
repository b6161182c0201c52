import type { RouteHandler } from './route';

/**
 * The problem types the API answers with (RFC 9457 `type`). Each is a relative reference, `/problems/<slug>`: resolved
 * against the request's URL it names a page this same API serves (GET /problems/{slug}), so it resolves wherever the
 * API is deployed, offline too, and always describes the version that answered. An absolute URI would need a host the
 * project owns. A problem outside this list (a rare client error of the HTTP stack) has the type `about:blank`
 * (RFC 9457 §4.2.1): its status code says all there is.
 */
export const problemTypes = {
  'invalid-request': {
    title: 'Invalid request',
    status: 400,
    description:
      'A field of the body, a query parameter or a header is invalid or missing; `errors` names each one with why. ' +
      'Fix the request; sending it again unchanged gets the same answer.',
  },
  'malformed-json': {
    title: 'Malformed JSON',
    status: 400,
    description: 'The body is not valid JSON. Send one JSON value, UTF-8 encoded.',
  },
  'request-aborted': {
    title: 'Request aborted',
    status: 400,
    description: 'The client closed the connection before the body was read in full.',
  },
  'bad-request': {
    title: 'Bad Request',
    status: 400,
    description: 'The URL is not valid percent-encoding, or the request is otherwise malformed.',
  },
  unauthenticated: {
    title: 'Unauthenticated',
    status: 401,
    description:
      'No API key, or one the API does not know. Send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`.',
  },
  forbidden: {
    title: 'Forbidden',
    status: 403,
    description:
      "The key is valid but may not do this: a customer's key acts on that customer's orders only, and only an " +
      "operator's key approves, rejects or resolves compensations.",
  },
  'not-found': {
    title: 'Not found',
    status: 404,
    description: 'No such path. /openapi.json lists every path the API serves.',
  },
  'order-not-found': {
    title: 'Order not found',
    status: 404,
    description:
      'No order has this id (an id of another shape than ord_ and 24 hex digits is never an order), or its events ' +
      'have not reached the read model yet.',
  },
  'method-not-allowed': {
    title: 'Method not allowed',
    status: 405,
    description: 'The path exists but not with this method; the `Allow` header lists the methods it takes.',
  },
  conflict: {
    title: 'Conflict',
    status: 409,
    description:
      'The order is not in a state that takes this message: e.g. an approval for an order not awaiting one, or a ' +
      'cancellation of a confirmed order. For a finished order, `state` holds its final state.',
  },
  'order-cancelled': {
    title: 'Order cancelled',
    status: 409,
    description: 'The order was cancelled before the saga accepted it; `state` shows it.',
  },
  'body-too-large': {
    title: 'Body too large',
    status: 413,
    description: 'The body is over 32 kB. Orders are small; split nothing, send less.',
  },
  'unsupported-media-type': {
    title: 'Unsupported media type',
    status: 415,
    description: 'The body is not `application/json`.',
  },
  'unsupported-encoding': {
    title: 'Unsupported encoding',
    status: 415,
    description: 'The body is compressed or in a charset other than UTF-8.',
  },
  'order-rejected': {
    title: 'Order rejected',
    status: 422,
    description:
      'A valid order the business refused (unknown sku, out of stock, blocked customer...): `state.failure` names ' +
      'the reason and `state.compensations` what was undone. Nothing of the order remains. A business answer, not ' +
      'a fault: placing it again gets the same answer.',
  },
  'idempotency-key-reused': {
    title: 'Idempotency key reused',
    status: 422,
    description:
      'This Idempotency-Key was first used with another body. Send exactly the same body to get the first answer ' +
      'again, or a new key for a new order.',
  },
  'too-many-requests': {
    title: 'Too many requests',
    status: 429,
    description:
      'Over the rate limit of the key (or of the client IP without one); wait for the seconds in Retry-After.',
  },
  'internal-error': {
    title: 'Internal error',
    status: 500,
    description:
      'The API failed; it logged the error under the `requestId` of the answer. Quote it when asking for help.',
  },
  'service-unavailable': {
    title: 'Service unavailable',
    status: 503,
    description:
      'Temporal or a database did not answer in time. Nothing was decided; try again after the seconds in Retry-After.',
  },
} as const satisfies Record<string, { title: string; status: number; description: string }>;

export type ProblemSlug = keyof typeof problemTypes;

/** The path of the pages, and the prefix of every `type` but about:blank. */
export const problemTypesPath = '/problems';

/** `about:blank` when a problem has no page of its own (RFC 9457 §4.2.1). */
export const blankProblemType = 'about:blank';

export function problemSlugOf(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/(^-|-$)/g, '');
}

/** The `type` of a problem with this title. */
export function problemTypeOf(title: string): string {
  const slug = problemSlugOf(title);
  return Object.hasOwn(problemTypes, slug) ? `${problemTypesPath}/${slug}` : blankProblemType;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** GET /problems/{type}: a short page describing the problem, what `type` resolves to. */
export const problemTypePageHandler: RouteHandler = ({ request, response, next }) => {
  const slug = String(request.params.type);
  if (!Object.hasOwn(problemTypes, slug)) {
    next();
    return;
  }
  const { title, status, description } = problemTypes[slug as ProblemSlug];
  const text = escapeHtml(description).replace(/`([^`]+)`/g, '<code>$1</code>');
  response
    .type('html')
    .send(
      `<!doctype html>\n<html lang="en">\n  <head><meta charset="utf-8" /><title>${escapeHtml(title)}</title></head>\n` +
        `  <body>\n    <h1>${escapeHtml(title)} (${status})</h1>\n    <p>${text}</p>\n` +
        `    <p>Every problem of this API: <a href="/openapi.json">/openapi.json</a>, <a href="/docs">/docs</a>.</p>\n` +
        '  </body>\n</html>\n',
    );
};
