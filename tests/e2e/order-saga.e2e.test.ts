import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  blockedCustomerId,
  paymentTokens,
  soldOutSku,
  undeliverablePostalCode,
} from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import { rateCents } from '../../simulators/carrier/app';
import { defaultCarrierClientOptions } from '../../src/partners/carrier-client';
import { orderWorkflowId } from '../../src/temporal/names';
import { needsAttentionAttribute, orderStatusAttribute } from '../../src/temporal/search-attributes';
import { finalStatuses, type OrderSagaState, type OrderStatus } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { providers, skipReason } from '../support/service-databases';
import { londonAddress, orderRequest, type OrderRequestOptions } from '../support/sample-orders';

/**
 * The system end to end over HTTP: real dev server, real workers, real
 * databases. Each scenario asserts the HTTP answers, the saga state and the
 * rows left in every service's database.
 */

const orderBody = (options: OrderRequestOptions = {}) => orderRequest({ customerId: 'cus_e2e', ...options });

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`orders end to end on ${provider}`, { skip }, () => {
    let stack: Stack;

    before(async () => {
      stack = await startStack(provider);
    });

    after(async () => {
      await stack?.stop();
    });

    /**
     * Places an order and checks the answer that POST /orders gives once the
     * saga decided (the default, early-return mode): 201 with the order
     * accepted, or 422 with the saga's reason and its state, compensated.
     */
    async function placeOrder(options: OrderRequestOptions = {}, key = randomUUID()) {
      const response = await fetch(`${stack.baseUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(orderBody(options)),
      });
      if (response.status === 422) {
        const problem = (await response.json()) as { type: string; state: OrderSagaState };
        assert.equal(problem.type, '/problems/order-rejected');
        assert.ok(finalStatuses.includes(problem.state.status), `rejected and settled: ${problem.state.status}`);
        return problem.state.orderId;
      }
      assert.equal(response.status, 201);
      const body = (await response.json()) as { orderId: string; workflowId: string; state: OrderSagaState };
      assert.equal(response.headers.get('location'), `/orders/${body.orderId}`);
      assert.ok(body.state.completedSteps.includes('reserve-stock'), 'accepted: the stock is reserved');
      return body.orderId;
    }

    async function post(path: string, body: unknown) {
      const response = await fetch(`${stack.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    async function getOrder(orderId: string): Promise<OrderSagaState> {
      const response = await fetch(`${stack.baseUrl}/orders/${orderId}`);
      assert.equal(response.status, 200);
      return (await response.json()) as OrderSagaState;
    }

    async function waitFor(orderId: string, statuses: readonly OrderStatus[] = finalStatuses): Promise<OrderSagaState> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const state = await getOrder(orderId);
        if (statuses.includes(state.status)) return state;
        if (Date.now() > deadline) assert.fail(`order ${orderId} stayed ${state.status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    async function stockOf(sku: string): Promise<number> {
      const product = await stack.db.inventory.product.findUniqueOrThrow({ where: { sku } });
      return product.available;
    }

    async function rowsOf(orderId: string) {
      const [order, reservations, payments, shipments] = await Promise.all([
        stack.db.orders.order.findUnique({ where: { id: orderId }, include: { items: true } }),
        stack.db.inventory.reservation.findMany({ where: { orderId } }),
        stack.db.payments.payment.findMany({ where: { orderId } }),
        stack.db.shipping.shipment.findMany({ where: { orderId } }),
      ]);
      return { order, reservations, payments, shipments };
    }

    test('an order completes: every service holds its part', async () => {
      const before = await stockOf('SKU-MUG');
      const orderId = await placeOrder();
      const state = await waitFor(orderId);
      assert.equal(state.status, 'confirmed');
      assert.equal(state.totalCents, 2_400);
      const rows = await rowsOf(orderId);
      assert.equal(rows.order?.status, 'CONFIRMED');
      assert.equal(rows.order?.totalCents, 2_400);
      assert.deepEqual(
        rows.order?.items.map(({ sku, quantity }) => ({ sku, quantity })),
        [{ sku: 'SKU-MUG', quantity: 2 }],
      );
      assert.equal(rows.order?.paymentId, state.paymentId);
      assert.equal(rows.order?.shipmentId, state.shipmentId);
      assert.deepEqual(
        rows.reservations.map((r) => r.status),
        ['COMMITTED'],
      );
      assert.deepEqual(
        rows.payments.map((p) => [p.status, p.amountCents]),
        [['CHARGED', 2_400]],
      );
      assert.deepEqual(
        rows.shipments.map((s) => [s.status, s.postalCode, s.rateSource, s.rateCents]),
        [
          [
            'CREATED',
            londonAddress.postalCode,
            'carrier-quote',
            rateCents({ country: londonAddress.country, itemCount: 2 }),
          ],
        ],
      );
      assert.equal(state.shippingRate?.source, 'carrier-quote');
      assert.deepEqual(
        [rows.order?.shippingRateSource, rows.order?.shippingCents],
        ['carrier-quote', rows.shipments[0]?.rateCents],
      );
      assert.equal(await stockOf('SKU-MUG'), before - 2);

      // The read side on this database too: the four services' events, relayed, in the history and the list.
      const deadline = Date.now() + 30_000;
      let events: string[] = [];
      while (events.length < 6 && Date.now() < deadline) {
        const history = await fetch(`${stack.baseUrl}/orders/${orderId}/events`);
        if (history.status === 200) {
          events = ((await history.json()) as { events: { type: string }[] }).events.map(({ type }) => type);
        }
        if (events.length < 6) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(events, [
        'OrderCreated',
        'StockReserved',
        'PaymentCharged',
        'ShipmentCreated',
        'StockCommitted',
        'OrderConfirmed',
      ]);
      const listed = await fetch(`${stack.baseUrl}/orders?customerId=cus_e2e&status=confirmed&limit=100`);
      const { orders } = (await listed.json()) as { orders: { orderId: string; totalCents: number }[] };
      assert.equal(orders.find((order) => order.orderId === orderId)?.totalCents, 2_400);

      const description = await stack.temporal.client.workflow.getHandle(orderWorkflowId(orderId)).describe();
      assert.equal(description.typedSearchAttributes.get(orderStatusAttribute), 'confirmed');
      assert.equal(description.typedSearchAttributes.get(needsAttentionAttribute), false);
    });

    test('the carrier is down: the order still completes, at the flat rate, and says so', async () => {
      await stack.carrier.setFaults({ down: true });
      let state: OrderSagaState;
      try {
        state = await waitFor(await placeOrder());
      } finally {
        await stack.carrier.setFaults({});
      }
      const { orderId } = state;
      assert.equal(state.status, 'confirmed');
      assert.equal(state.shippingRate?.source, 'flat-rate');
      const rows = await rowsOf(orderId);
      assert.deepEqual(
        rows.shipments.map((s) => [s.status, s.rateSource, s.rateCents, s.rateQuoteId]),
        [['CREATED', 'flat-rate', defaultCarrierClientOptions.flatRateCents, null]],
      );
      assert.ok(rows.shipments[0]?.rateNote, 'the shipment says why the flat rate applied');
      assert.deepEqual(
        [rows.order?.status, rows.order?.shippingRateSource, rows.order?.shippingCents],
        ['CONFIRMED', 'flat-rate', defaultCarrierClientOptions.flatRateCents],
      );
      assert.deepEqual(
        rows.payments.map((p) => [p.status, p.amountCents]),
        [['CHARGED', 2_400]],
        'the customer pays for the goods, whatever the parcel costs the shop',
      );
    });
    test('repeats of one Idempotency-Key, even concurrent, make one order and one charge', async () => {
      const key = randomUUID();
      const ids = await Promise.all(Array.from({ length: 5 }, () => placeOrder({}, key)));
      assert.equal(new Set(ids).size, 1);
      const orderId = ids[0]!;
      await waitFor(orderId);
      assert.equal(await placeOrder({}, key), orderId, 'a repeat after completion names the same order');
      const rows = await rowsOf(orderId);
      assert.equal(rows.reservations.length, 1);
      assert.equal(rows.payments.length, 1);
      assert.equal(rows.shipments.length, 1);
      const runs = stack.temporal.client.workflow.list({ query: `WorkflowId = '${orderWorkflowId(orderId)}'` });
      let count = 0;
      for await (const _run of runs) count += 1;
      assert.equal(count, 1, 'one workflow run');
    });

    test('a declined card releases the stock and cancels the order', async () => {
      const before = await stockOf('SKU-MUG');
      const orderId = await placeOrder({ token: paymentTokens.declined });
      const state = await waitFor(orderId);
      assert.equal(state.status, 'failed');
      assert.equal(state.failure?.type, rejectionTypes.paymentDeclined);
      assert.deepEqual(
        state.compensations.map((c) => [c.compensation, c.status]),
        [
          ['release-stock', 'completed'],
          ['cancel-order', 'completed'],
        ],
      );
      const rows = await rowsOf(orderId);
      assert.equal(rows.order?.status, 'CANCELLED');
      assert.match(rows.order?.cancelReason ?? '', /Card declined/);
      assert.deepEqual(
        rows.reservations.map((r) => r.status),
        ['RELEASED'],
      );
      // The gateway declined: recorded as such, nothing charged there.
      assert.deepEqual(
        rows.payments.map((p) => p.status),
        ['DECLINED'],
      );
      assert.deepEqual(
        (await stack.gatewayClient.chargesOfOrder(orderId)).map((charge) => charge.status),
        ['declined'],
      );
      assert.deepEqual(rows.shipments, []);
      assert.equal(await stockOf('SKU-MUG'), before);
    });

    test('an undeliverable address refunds the payment', async () => {
      const before = await stockOf('SKU-TEE');
      const orderId = await placeOrder({
        items: [{ sku: 'SKU-TEE', quantity: 1 }],
        postalCode: undeliverablePostalCode,
      });
      const state = await waitFor(orderId);
      assert.equal(state.failure?.type, rejectionTypes.addressUndeliverable);
      assert.deepEqual(
        state.compensations.map((c) => c.compensation),
        ['refund-payment', 'release-stock', 'cancel-order'],
      );
      const rows = await rowsOf(orderId);
      assert.equal(rows.order?.status, 'CANCELLED');
      assert.deepEqual(
        rows.payments.map((p) => p.status),
        ['REFUNDED'],
      );
      assert.ok(rows.payments[0]?.refundedAt);
      assert.deepEqual(rows.shipments, []);
      assert.deepEqual(
        rows.reservations.map((r) => r.status),
        ['RELEASED'],
      );
      assert.equal(await stockOf('SKU-TEE'), before);
    });

    test('a sold-out item cancels the order before any payment', async () => {
      const orderId = await placeOrder({
        items: [
          { sku: 'SKU-MUG', quantity: 1 },
          { sku: soldOutSku, quantity: 1 },
        ],
      });
      const state = await waitFor(orderId);
      assert.equal(state.failure?.type, rejectionTypes.outOfStock);
      assert.deepEqual(
        state.compensations.map((c) => c.compensation),
        ['cancel-order'],
      );
      const rows = await rowsOf(orderId);
      assert.equal(rows.order?.status, 'CANCELLED');
      assert.deepEqual(rows.reservations, [], 'the partial reservation rolled back');
      assert.equal(await stockOf(soldOutSku), 0);
    });

    test('a blocked customer is refused at the first step: nothing to compensate', async () => {
      const orderId = await placeOrder({ customerId: blockedCustomerId });
      const state = await waitFor(orderId);
      assert.equal(state.failure?.type, rejectionTypes.customerBlocked);
      assert.deepEqual(state.compensations, []);
      const rows = await rowsOf(orderId);
      assert.equal(rows.order, null);
    });

    test('a flaky gateway is retried until the charge goes through, once', async () => {
      const orderId = await placeOrder({ token: paymentTokens.flaky });
      const state = await waitFor(orderId);
      assert.equal(state.status, 'confirmed');
      const rows = await rowsOf(orderId);
      assert.deepEqual(
        rows.payments.map((p) => p.status),
        ['CHARGED'],
      );
    });

    test('a refund the issuer rejects waits for an operator, who resolves it by hand', async () => {
      const before = await stockOf('SKU-HOODIE');
      const orderId = await placeOrder({
        items: [{ sku: 'SKU-HOODIE', quantity: 1 }],
        token: paymentTokens.refundRejected,
        postalCode: undeliverablePostalCode,
      });
      const stuck = await waitFor(orderId, ['needs-attention']);
      assert.deepEqual(
        stuck.compensations.map((c) => [c.compensation, c.status]),
        [
          ['refund-payment', 'failed'],
          ['release-stock', 'pending'],
          ['cancel-order', 'pending'],
        ],
      );
      assert.match(stuck.compensations[0]?.lastError ?? '', /issuer rejected the refund/);
      const handle = stack.temporal.client.workflow.getHandle(orderWorkflowId(orderId));
      assert.equal((await handle.describe()).typedSearchAttributes.get(needsAttentionAttribute), true);

      const retried = await post(`/orders/${orderId}/compensation`, {
        action: 'retry',
        note: 'asked the issuer again',
      });
      assert.equal(retried.status, 202);
      const stillStuck = await waitFor(orderId, ['needs-attention']);
      assert.equal(stillStuck.compensations[0]?.runs, 2);

      const resolved = await post(`/orders/${orderId}/compensation`, {
        action: 'mark-resolved',
        note: 'refunded by bank transfer',
      });
      assert.equal(resolved.status, 202);
      const state = await waitFor(orderId);
      assert.equal(state.status, 'failed');
      assert.deepEqual(
        state.compensations.map((c) => [c.compensation, c.status]),
        [
          ['refund-payment', 'resolved-manually'],
          ['release-stock', 'completed'],
          ['cancel-order', 'completed'],
        ],
      );
      const rows = await rowsOf(orderId);
      assert.deepEqual(
        rows.payments.map((p) => p.status),
        ['CHARGED'],
        'the refund happened outside the system',
      );
      assert.deepEqual(
        rows.reservations.map((r) => r.status),
        ['RELEASED'],
      );
      assert.equal(rows.order?.status, 'CANCELLED');
      assert.equal(await stockOf('SKU-HOODIE'), before);

      const again = await post(`/orders/${orderId}/compensation`, { action: 'retry', note: 'again' });
      assert.equal(again.status, 409);
    });

    test('an order over the approval threshold waits, and is confirmed once approved', async () => {
      const orderId = await placeOrder({ items: [{ sku: 'SKU-LAPTOP', quantity: 1 }] });
      const waiting = await waitFor(orderId, ['awaiting-approval']);
      assert.equal(waiting.totalCents, 149_900);
      assert.deepEqual((await rowsOf(orderId)).payments, [], 'no charge before approval');
      // Twice at once, as a client retrying a request whose answer it lost: the retry joins the decision (same update
      // id), neither is refused as too late; the other decision is.
      const [approved, retried] = await Promise.all([
        post(`/orders/${orderId}/approve`, { decidedBy: 'ops@example.com' }),
        post(`/orders/${orderId}/approve`, { decidedBy: 'ops@example.com' }),
      ]);
      assert.equal(approved.status, 202);
      assert.equal(retried.status, 202, JSON.stringify(retried.body));
      assert.equal((await post(`/orders/${orderId}/reject`, { decidedBy: 'ops@example.com' })).status, 409);
      const state = await waitFor(orderId);
      assert.equal(state.status, 'confirmed');
      assert.deepEqual(
        (await rowsOf(orderId)).payments.map((p) => [p.status, p.amountCents]),
        [['CHARGED', 149_900]],
      );
    });

    test('cancel before shipment compensates; a second cancel and a late approval are 409', async () => {
      const before = await stockOf('SKU-LAPTOP');
      const orderId = await placeOrder({ items: [{ sku: 'SKU-LAPTOP', quantity: 1 }] });
      await waitFor(orderId, ['awaiting-approval']);
      const cancelled = await post(`/orders/${orderId}/cancel`, { reason: 'Ordered by mistake' });
      // The answer comes once the saga has unwound, and says what it undid.
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.cancellationReason, 'Ordered by mistake');
      const state = await getOrder(orderId);
      assert.deepEqual(cancelled.body, state);
      assert.equal(state.status, 'cancelled');
      assert.deepEqual(
        state.compensations.map((c) => c.compensation),
        ['release-stock', 'cancel-order'],
      );
      const rows = await rowsOf(orderId);
      assert.equal(rows.order?.status, 'CANCELLED');
      assert.equal(rows.order?.cancelReason, 'Ordered by mistake');
      assert.deepEqual(rows.payments, []);
      assert.equal(await stockOf('SKU-LAPTOP'), before);

      const again = await post(`/orders/${orderId}/cancel`, { reason: 'again' });
      assert.equal(again.status, 409);
      assert.equal(again.body.type, '/problems/conflict');
      const late = await post(`/orders/${orderId}/approve`, { decidedBy: 'ops' });
      assert.equal(late.status, 409);
    });

    test('an unknown order is 404; readiness reports every dependency', async () => {
      const missing = await fetch(`${stack.baseUrl}/orders/ord_${'0'.repeat(24)}`);
      assert.equal(missing.status, 404);
      const ready = await fetch(`${stack.baseUrl}/health/ready`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { checks: { name: string; status: string }[] };
      assert.deepEqual(
        body.checks.map((check) => [check.name, check.status]),
        [
          ['temporal', 'ok'],
          ['orders-database', 'ok'],
          ['inventory-database', 'ok'],
          ['payments-database', 'ok'],
          ['shipping-database', 'ok'],
        ],
      );
    });
  });
}
