import createClient from 'openapi-fetch';
import { idempotencyKeyHeader, idempotentReplayedHeader } from '../../src/api/schemas';
import type { components, paths } from './api-types';

/**
 * The terminal client's side of the API: openapi-fetch over the types openapi-typescript generated from the committed
 * openapi.json (tooling/cli/api-types.ts, `npm run openapi:write`), so a path, parameter or body the document does not
 * have fails to compile.
 */

/** How long one request may take; the API itself answers 503 after 5 s without Temporal. */
const requestTimeoutMs = 10_000;

export type OrderRequest = components['schemas']['OrderRequest'];
export type OrderState = components['schemas']['OrderState'];
type Problem = components['schemas']['Problem'];

/** The API answered with a problem (RFC 9457); `message` is one line with its title, detail and field errors. */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** No answer at all: refused, unresolvable, timed out. */
export class ApiUnreachable extends Error {
  override name = 'ApiUnreachable';
}

export interface PlacedOrder {
  orderId: string;
  workflowId: string;
  replayed: boolean;
}

function describeProblem(request: string, status: number, body: unknown): string {
  const problem: Partial<Problem> = typeof body === 'object' && body !== null ? body : {};
  const parts = [`${request} answered ${status}`];
  if (typeof problem.title === 'string') parts.push(problem.title);
  if (typeof problem.detail === 'string' && problem.detail !== problem.title) parts.push(problem.detail);
  let text = parts.join(': ');
  if (Array.isArray(problem.errors) && problem.errors.length > 0) {
    text += ` (${problem.errors.map(({ field, message }) => `${field}: ${message}`).join('; ')})`;
  }
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Why fetch failed, from its cause (ECONNREFUSED, ENOTFOUND, a timeout). */
function unreachableReason(error: unknown): string {
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${requestTimeoutMs / 1000} s`;
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

export function createApiClient(baseUrl: string, apiKey?: string) {
  const api = createClient<paths>({
    baseUrl,
    headers: { accept: 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
  });

  /** One call: its answer, or ApiUnreachable without one, or ApiProblem for an error or an answer without a body. */
  async function send<T>(
    request: string,
    call: (signal: AbortSignal) => Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<{ data: T; response: Response }> {
    let answer: Awaited<ReturnType<typeof call>>;
    try {
      answer = await call(AbortSignal.timeout(requestTimeoutMs));
    } catch (error) {
      throw new ApiUnreachable(`cannot reach the API at ${baseUrl} (${unreachableReason(error)})`);
    }
    const { data, error, response } = answer;
    if (!response.ok) throw new ApiProblem(response.status, describeProblem(request, response.status, error));
    if (data === undefined) {
      throw new ApiProblem(response.status, `${request} answered ${response.status} without a JSON body`);
    }
    return { data, response };
  }

  return {
    async placeOrder(order: OrderRequest, idempotencyKey: string): Promise<PlacedOrder> {
      const { data, response } = await send('POST /orders', (signal) =>
        api.POST('/orders', {
          params: {
            // The client follows every step itself, the first two included, so it wants the 202 at once.
            header: { [idempotencyKeyHeader]: idempotencyKey, Prefer: 'respond-async' },
          },
          body: order,
          signal,
        }),
      );
      return {
        orderId: data.orderId,
        workflowId: data.workflowId,
        replayed: response.headers.get(idempotentReplayedHeader) === 'true',
      };
    },

    async orderState(orderId: string): Promise<OrderState> {
      const { data } = await send(`GET /orders/${orderId}`, (signal) =>
        api.GET('/orders/{orderId}', { params: { path: { orderId } }, signal }),
      );
      return data;
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
