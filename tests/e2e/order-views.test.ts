import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { paymentTokens, soldOutSku } from '../../src/domain/failure-triggers';
import type { OrderView } from '../../src/read-model';
import { orderWorkflowId } from '../../src/temporal/names';
import { startStack, type Stack } from '../support/stack';
import { londonAddress } from '../support/sample-orders';

/**
 * The read side over HTTP, against the real stack: the relays carry every
 * service's events to the read model as orders run, and GET /orders lists
 * them (filters, sorting, cursor pages), GET /orders/{id}/events gives one
 * order's history across the four services, GET /health/projection the lag.
 */

interface OrderList {
  orders: OrderView[];
  nextCursor: string | null;
}

interface Problem {
  status: number;
  type: string;
  errors?: { field: string; message: string }[];
}

describe('the read model over HTTP', () => {
  let stack: Stack;
  const customerId = `cus_views_${randomUUID().slice(0, 8)}`;
  const placed: Record<'confirmed' | 'declined' | 'soldOut', string> = { confirmed: '', declined: '', soldOut: '' };

  async function get<T>(path: string): Promise<{ status: number; body: T }> {
    const response = await fetch(`${stack.baseUrl}${path}`);
    return { status: response.status, body: (await response.json()) as T };
  }

  async function place(items: { sku: string; quantity: number }[], token: string = paymentTokens.approved) {
    const response = await fetch(`${stack.baseUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ customerId, items, payment: { token }, shippingAddress: londonAddress }),
    });
    const body = (await response.json()) as { orderId?: string; state?: { orderId: string } };
    assert.ok(response.status === 201 || response.status === 422, `placed: ${response.status}`);
    return body.orderId ?? body.state!.orderId;
  }

  /**
   * The customer's orders once the list shows each with the given fields. Each service's relay delivers its own
   * events, so the orders service's confirmation can reach the read model before inventory's commit: wait for every
   * field asked for, not the status alone.
   */
  async function listUntil(expected: Record<string, Partial<OrderView>>): Promise<OrderView[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { status, body } = await get<OrderList>(`/orders?customerId=${customerId}&limit=100`);
      assert.equal(status, 200);
      const byId = new Map(body.orders.map((order) => [order.orderId, order]));
      const shows = (orderId: string, fields: Partial<OrderView>) =>
        Object.entries(fields).every(([field, value]) => byId.get(orderId)?.[field as keyof OrderView] === value);
      if (Object.entries(expected).every(([orderId, fields]) => shows(orderId, fields))) {
        return body.orders;
      }
      if (Date.now() > deadline)
        assert.fail(`the list never showed ${JSON.stringify(expected)}: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  before(async () => {
    stack = await startStack('sqlite');
    placed.confirmed = await place([{ sku: 'SKU-MUG', quantity: 2 }]);
    placed.declined = await place([{ sku: 'SKU-MUG', quantity: 1 }], paymentTokens.declined);
    placed.soldOut = await place([{ sku: soldOutSku, quantity: 1 }]);
  });

  after(async () => {
    await stack?.stop();
  });

  test('every order appears with what each service recorded, newest first', async () => {
    const orders = await listUntil({
      [placed.confirmed]: {
        status: 'confirmed',
        reservationStatus: 'committed',
        paymentStatus: 'charged',
        shipmentStatus: 'created',
      },
      [placed.declined]: {
        status: 'cancelled',
        paymentStatus: 'declined',
        reservationStatus: 'released',
        stockReleased: true,
      },
      [placed.soldOut]: { status: 'cancelled' },
    });
    assert.deepEqual(
      orders.map(({ orderId }) => orderId),
      [placed.soldOut, placed.declined, placed.confirmed],
    );
    const confirmed = orders.find(({ orderId }) => orderId === placed.confirmed)!;
    assert.equal(confirmed.customerId, customerId);
    assert.equal(confirmed.workflowId, orderWorkflowId(placed.confirmed));
    assert.equal(confirmed.totalCents, 2_400);
    assert.equal(confirmed.reservationStatus, 'committed');
    assert.equal(confirmed.paymentStatus, 'charged');
    assert.equal(confirmed.shipmentStatus, 'created');
    assert.deepEqual(
      confirmed.items.map(({ sku, quantity }) => [sku, quantity]),
      [['SKU-MUG', 2]],
    );
    const declined = orders.find(({ orderId }) => orderId === placed.declined)!;
    assert.equal(declined.paymentStatus, 'declined');
    assert.equal(declined.stockReleased, true, 'the compensation is in the view');
    assert.equal(declined.reservationStatus, 'released');
  });

  test('filters, the other sort, and cursor pages that add up to the whole list', async () => {
    const cancelled = await get<OrderList>(`/orders?customerId=${customerId}&status=cancelled`);
    assert.deepEqual(
      cancelled.body.orders.map(({ orderId }) => orderId).sort(),
      [placed.declined, placed.soldOut].sort(),
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const query: string = `/orders?customerId=${customerId}&sort=createdAt:asc&limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body } = await get<OrderList>(query);
      assert.equal(status, 200);
      seen.push(...body.orders.map(({ orderId }) => orderId));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, [placed.confirmed, placed.declined, placed.soldOut]);

    const future = await get<OrderList>(`/orders?customerId=${customerId}&createdFrom=2999-01-01T00:00:00Z`);
    assert.deepEqual(future.body.orders, []);
  });

  test('a bad cursor, a cursor of another query and unknown parameters are 400, not 500', async () => {
    const bad = await get<Problem>(`/orders?cursor=not-a-cursor`);
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.body.errors?.map(({ field }) => field),
      ['cursor'],
    );

    const first = await get<OrderList>(`/orders?customerId=${customerId}&limit=1`);
    assert.ok(first.body.nextCursor);
    const foreign = await get<Problem>(`/orders?status=confirmed&limit=1&cursor=${first.body.nextCursor}`);
    assert.equal(foreign.status, 400, 'a cursor belongs to its filters');

    const unknown = await get<Problem>(`/orders?color=red&limit=0`);
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.errors?.map(({ field }) => field).sort(), ['(query)', 'limit']);
  });

  test("an order's history across the four services, in order", async () => {
    const { status, body } = await get<{ orderId: string; events: { type: string; aggregateType: string }[] }>(
      `/orders/${placed.confirmed}/events`,
    );
    assert.equal(status, 200);
    assert.deepEqual(
      body.events.map(({ type }) => type),
      ['OrderCreated', 'StockReserved', 'PaymentCharged', 'ShipmentCreated', 'StockCommitted', 'OrderConfirmed'],
    );
    assert.equal((await get(`/orders/ord_${'0'.repeat(24)}/events`)).status, 404);
  });

  test('the projection lag is a number, and zero once every event was delivered', async () => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { status, body } = await get<{ lagMs: number; byService: Record<string, { pendingEvents: number }> }>(
        '/health/projection',
      );
      assert.equal(status, 200);
      assert.equal(typeof body.lagMs, 'number');
      assert.deepEqual(Object.keys(body.byService).sort(), ['inventory', 'orders', 'payments', 'shipping']);
      if (body.lagMs === 0) return;
      assert.ok(Date.now() < deadline, `still ${body.lagMs} ms behind`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
