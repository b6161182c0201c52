import { idempotencyKeyHeader, idempotentReplayedHeader } from '../api/schemas';
import type { OrderRequest } from '../domain/order';
import type { OrderSagaState } from '../workflows/definitions';

/** How long one request may take; the API itself answers 503 after 5 s without Temporal. */
const requestTimeoutMs = 10_000;

/** The API answered with a problem (RFC 9457); `message` is one line with its title, detail and field errors. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** No answer at all: refused, unresolvable, timed out. */
export class ApiUnreachable extends Error {}

export interface PlacedOrder {
  orderId: string;
  workflowId: string;
  replayed: boolean;
}

interface ProblemBody {
  title?: unknown;
  detail?: unknown;
  errors?: unknown;
}

function describeProblem(request: string, status: number, body: unknown): string {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as ProblemBody;
  const parts = [`${request} answered ${status}`];
  if (typeof problem.title === 'string') parts.push(problem.title);
  if (typeof problem.detail === 'string' && problem.detail !== problem.title) parts.push(problem.detail);
  let text = parts.join(': ');
  if (Array.isArray(problem.errors) && problem.errors.length > 0) {
    const fields = problem.errors.map((error: { field?: unknown; message?: unknown }) =>
      [error.field, error.message].filter((part) => typeof part === 'string').join(': '),
    );
    text += ` (${fields.join('; ')})`;
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
  const authorization: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  async function send(
    method: 'GET' | 'POST',
    path: string,
    init: { headers?: Record<string, string>; body?: unknown },
  ) {
    const request = `${method} ${path}`;
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { accept: 'application/json', ...authorization, ...init.headers },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      throw new ApiUnreachable(`cannot reach the API at ${baseUrl} (${unreachableReason(error)})`);
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) throw new ApiProblem(response.status, describeProblem(request, response.status, body));
    if (body === undefined) {
      throw new ApiProblem(response.status, `${request} answered ${response.status} without a JSON body`);
    }
    return { response, body };
  }

  return {
    async placeOrder(order: OrderRequest, idempotencyKey: string): Promise<PlacedOrder> {
      const { response, body } = await send('POST', '/orders', {
        headers: {
          'content-type': 'application/json',
          [idempotencyKeyHeader]: idempotencyKey,
          // The client follows every step itself, the first two included, so it wants the 202 at once.
          prefer: 'respond-async',
        },
        body: order,
      });
      const { orderId, workflowId } = body as Partial<PlacedOrder>;
      if (typeof orderId !== 'string' || typeof workflowId !== 'string') {
        throw new ApiProblem(response.status, 'POST /orders answered without an orderId and workflowId');
      }
      return { orderId, workflowId, replayed: response.headers.get(idempotentReplayedHeader) === 'true' };
    },

    async orderState(orderId: string): Promise<OrderSagaState> {
      const { body } = await send('GET', `/orders/${encodeURIComponent(orderId)}`, {});
      return body as OrderSagaState;
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
