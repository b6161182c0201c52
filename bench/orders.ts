import { idempotencyKeyHeader } from '../src/api/schemas';
import { defaultDraft, orderRequestOf } from '../tooling/cli/scenarios';
import { catalogue } from '../src/db';
import { orderWorkflowId } from '../src/temporal/names';

/**
 * Orders the benchmark places: one unit of a catalogue product each, priced under the approval threshold (so no
 * order waits for an operator), spread over the products so no single stock row is the hot spot, and never more
 * than the seeded stock (an out-of-stock order would be a failed saga, not a measurement).
 */
export interface OrderSource {
  next(): { idempotencyKey: string; body: object };
  /** Orders that can still be placed before some product runs out. */
  remaining(): number;
}

export function createOrderSource(runTag: string, approvalThresholdCents: number): OrderSource {
  const products = catalogue
    .filter((product) => product.available > 0 && product.priceCents <= approvalThresholdCents)
    .map((product) => ({ sku: product.sku, left: product.available }));
  let placed = 0;
  return {
    next() {
      const inStock = products.filter((product) => product.left > 0);
      const product = inStock[placed % Math.max(1, inStock.length)];
      if (!product) throw new Error('the catalogue has no stock left for another order');
      product.left -= 1;
      placed += 1;
      return {
        idempotencyKey: `bench-${runTag}-${placed}`,
        body: orderRequestOf({ ...defaultDraft, customerId: 'cus_bench', sku: product.sku, quantity: 1 }),
      };
    },
    remaining: () => products.reduce((sum, product) => sum + product.left, 0),
  };
}

export type PlacementMode = 'early-return' | 'respond-async';

export interface Placement {
  workflowId: string;
  /** 201 (accepted), or 202: respond-async, or an early return whose acceptance took longer than the API waits. */
  status: 201 | 202;
}

/** POST /orders; resolves once the API has answered 201 or 202 (anything else is an error). */
export async function placeOrder(apiUrl: string, source: OrderSource, mode: PlacementMode): Promise<Placement> {
  const { idempotencyKey, body } = source.next();
  const response = await fetch(`${apiUrl}/orders`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [idempotencyKeyHeader]: idempotencyKey,
      ...(mode === 'respond-async' ? { prefer: 'respond-async' } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const expected = mode === 'respond-async' ? [202] : [201, 202];
  if (!expected.includes(response.status)) {
    throw new Error(
      `POST /orders answered ${response.status} (expected ${expected.join(' or ')}): ${text.slice(0, 200)}`,
    );
  }
  const location = response.headers.get('location') ?? '';
  const orderId = decodeURIComponent(location.slice(location.lastIndexOf('/') + 1));
  if (!orderId) throw new Error(`POST /orders answered ${response.status} without a Location`);
  return { workflowId: orderWorkflowId(orderId), status: response.status as 201 | 202 };
}
