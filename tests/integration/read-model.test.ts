import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ulid } from 'ulid';
import { createInventoryActivities } from '../../src/activities/inventory';
import { createOrdersActivities } from '../../src/activities/orders';
import { createPaymentsActivities } from '../../src/activities/payments';
import { createShippingActivities } from '../../src/activities/shipping';
import {
  applyAllMigrations,
  closeServiceDatabases,
  createServiceDb,
  openServiceDatabases,
  seedCatalogue,
  type ServiceDatabases,
  type ViewsDb,
} from '../../src/db';
import { provisionDatabases } from '../../tooling/db/provision';
import { paymentTokens, undeliverablePostalCode } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import { appendEvent, readOutboxEvent, type DomainEvent, type OutboxWriter } from '../../src/events';
import { type CarrierClient } from '../../src/partners/carrier-client';
import { type GatewayClient } from '../../src/partners/gateway-client';
import {
  applyEvents,
  canonicalOrder,
  getOrderHistory,
  getOrderView,
  InvalidCursorError,
  listOrders,
  rebuildReadModel,
  type ListOrdersQuery,
  type OrderView,
} from '../../src/read-model';
import { orderWorkflowId, serviceNames, type ServiceName } from '../../src/temporal/names';
import { rejectionOf, silentLogger } from '../support/run-activity';
import { providers, skipReason } from '../support/service-databases';
import { startPartners, type TestPartners } from '../support/partners';
import { springfieldAddress as address } from '../support/sample-orders';

/**
 * The read model against real databases: events made by the services' real
 * activities (against their own databases and the partner processes), read
 * back from the outboxes and projected into the `views` database.
 *
 *   node --import tsx --test tests/integration/read-model.test.ts
 */

/** Orders for the rebuild test, spread over every saga path; bounded so a provider's run stays well under a minute. */
const mixedOrderCount = 250;

/** Asserts the fields `expected` names, and only those (Node 20 has no assert.partialDeepStrictEqual). */
function assertIncludes(actual: object | null, expected: Record<string, unknown>): void {
  assert.ok(actual, 'expected a value');
  const picked = Object.fromEntries(
    Object.keys(expected).map((key) => [key, (actual as Record<string, unknown>)[key]]),
  );
  assert.deepEqual(picked, expected);
}

/** A small seeded PRNG (mulberry32), so a failing shuffle can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, index) =>
    items.slice(index * size, (index + 1) * size),
  );
}

/** Runs tasks with at most `limit` in flight. */
async function inParallel<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return results;
}

let partners: TestPartners | undefined;
let gatewayClient: GatewayClient;
let carrierClient: CarrierClient;

before(async () => {
  partners = await startPartners();
  ({ gateway: gatewayClient, carrier: carrierClient } = partners.clients);
});

after(async () => {
  await partners?.stop();
});

const sagaPaths = [
  'confirmed',
  'payment-declined',
  'undeliverable',
  'cancelled-awaiting-approval',
  'needs-attention',
] as const;
type SagaPath = (typeof sagaPaths)[number];

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`read model on ${provider}`, { skip }, () => {
    let db: ServiceDatabases;
    let views: ViewsDb;
    let drop: () => Promise<void>;
    let sequence = 0;

    before(async () => {
      const databases = await provisionDatabases(provider);
      drop = databases.drop;
      // All five databases, the read model's included, through the db layer's own paths.
      const outcomes = await applyAllMigrations(databases.urls);
      assert.deepEqual(outcomes.map((outcome) => outcome.service).sort(), [...serviceNames, 'views'].sort());
      db = openServiceDatabases(databases.urls);
      views = createServiceDb('views', databases.urls.views);
      await seedCatalogue(db.inventory);
    });

    after(async () => {
      if (db) await closeServiceDatabases(db);
      await views?.$disconnect();
      await drop?.();
    });

    const resetViews = () => views.$transaction([views.orderView.deleteMany(), views.orderEvent.deleteMany()]);

    /**
     * Runs an activity as the order's workflow would: its context names the workflow, and a
     * transient failure (a partner slow under the test's parallel load) is retried a few times.
     */
    async function run<A extends unknown[], R>(
      workflowId: string,
      fn: (...args: A) => Promise<R>,
      ...args: A
    ): Promise<R> {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await new MockActivityEnvironment(
            { workflowExecution: { workflowId, runId: 'run-1' }, attempt },
            { logger: silentLogger },
          ).run(fn, ...args);
        } catch (error) {
          const transient = error instanceof ApplicationFailure && !error.nonRetryable;
          if (!transient || attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
        }
      }
    }

    const activities = () => ({
      orders: createOrdersActivities(db.orders),
      inventory: createInventoryActivities(db.inventory),
      payments: createPaymentsActivities(db.payments, gatewayClient),
      shipping: createShippingActivities(db.shipping, carrierClient),
    });

    /**
     * Runs the services' steps and compensations in the order the saga would for `path`,
     * so the outboxes hold that path's real events.
     */
    async function placeOrder(
      path: SagaPath,
      options: { customerId?: string; resolveByHand?: boolean } = {},
    ): Promise<string> {
      const { orders, inventory, payments, shipping } = activities();
      const number = ++sequence;
      const orderId = `ord_rm_${provider}_${number}`;
      const workflowId = orderWorkflowId(orderId);
      const keyOf = (step: string) => `${workflowId}:${step}`;
      const customerId = options.customerId ?? 'cus_ada';
      const items =
        path === 'cancelled-awaiting-approval'
          ? [{ sku: 'SKU-LAPTOP', quantity: 1 }]
          : [
              { sku: 'SKU-MUG', quantity: 1 + (number % 2) },
              { sku: 'SKU-TEE', quantity: 1 },
            ];
      const releaseAndCancel = async (reason: string) => {
        await run(workflowId, inventory.releaseStock, { stepKey: keyOf('reserve-stock'), orderId });
        await run(workflowId, orders.cancelOrder, { stepKey: keyOf('create-order'), orderId, reason });
      };

      await run(workflowId, orders.createOrder, { key: keyOf('create-order'), orderId, workflowId, customerId, items });
      const reservation = await run(workflowId, inventory.reserveStock, {
        key: keyOf('reserve-stock'),
        orderId,
        items,
      });
      if (path === 'cancelled-awaiting-approval') {
        // The total is over the approval threshold; the customer cancels while the saga waits.
        await releaseAndCancel('Cancelled by the customer');
        return orderId;
      }
      const token = {
        confirmed: paymentTokens.approved,
        'payment-declined': paymentTokens.declined,
        undeliverable: paymentTokens.approved,
        'needs-attention': paymentTokens.refundRejected,
      }[path];
      const charge = {
        key: keyOf('charge-payment'),
        orderId,
        amountCents: reservation.totalCents,
        paymentToken: token,
      };
      if (path === 'payment-declined') {
        assert.equal(
          await rejectionOf(run(workflowId, payments.chargePayment, charge)),
          rejectionTypes.paymentDeclined,
        );
        await releaseAndCancel('Payment declined');
        return orderId;
      }
      const payment = await run(workflowId, payments.chargePayment, charge);
      const postalCode = path === 'confirmed' ? address.postalCode : undeliverablePostalCode;
      const create = {
        key: keyOf('create-shipment'),
        orderId,
        address: { ...address, postalCode },
        itemCount: items.reduce((count, item) => count + item.quantity, 0),
      };
      if (path === 'confirmed') {
        const shipment = await run(workflowId, shipping.createShipment, create);
        await run(workflowId, inventory.commitReservation, {
          key: `${keyOf('confirm-order')}:commit-reservation`,
          stepKey: keyOf('reserve-stock'),
          orderId,
        });
        await run(workflowId, orders.confirmOrder, {
          key: keyOf('confirm-order'),
          orderId,
          totalCents: reservation.totalCents,
          paymentId: payment.paymentId,
          shipmentId: shipment.shipmentId,
          shippingRate: shipment.rate,
        });
        return orderId;
      }
      assert.equal(
        await rejectionOf(run(workflowId, shipping.createShipment, create)),
        rejectionTypes.addressUndeliverable,
      );
      const refund = run(workflowId, payments.refundPayment, { stepKey: charge.key, orderId });
      if (path === 'needs-attention') {
        // The issuer rejects the refund: the saga waits for an operator, who may mark it resolved.
        assert.equal(await rejectionOf(refund), rejectionTypes.refundRejected);
        if (options.resolveByHand) await releaseAndCancel('Address undeliverable');
        return orderId;
      }
      assert.deepEqual(await refund, { refunded: true });
      await releaseAndCancel('Address undeliverable');
      return orderId;
    }

    /** Every service's outbox, as the relay would read it: position order within each service. */
    async function outboxEvents(orderIds?: readonly string[]): Promise<Record<string, DomainEvent[]>> {
      const where = orderIds ? { orderId: { in: [...orderIds] } } : {};
      const byService: Record<string, DomainEvent[]> = {};
      for (const service of serviceNames) {
        const rows = await db[service].outboxEvent.findMany({ where, orderBy: { position: 'asc' } });
        byService[service] = rows.map(readOutboxEvent);
      }
      return byService;
    }

    const allOf = (byService: Record<string, DomainEvent[]>) => Object.values(byService).flat();

    /** What the read model holds, minus when it was written: comparable between two ways of filling it. */
    async function snapshot() {
      const orderViews = await views.orderView.findMany({ orderBy: { orderId: 'asc' } });
      const history = await views.orderEvent.findMany({
        orderBy: { eventId: 'asc' },
        omit: { appliedAt: true },
      });
      return { orderViews, history };
    }

    test('duplicates and out-of-order delivery, within and across aggregates, give the in-order view', async () => {
      const orderIds = [];
      for (const path of sagaPaths) orderIds.push(await placeOrder(path));
      const byService = await outboxEvents(orderIds);
      const events = allOf(byService);

      await resetViews();
      // As the relays deliver: each service's events in position order, a service at a time.
      for (const service of serviceNames) await applyEvents(views, byService[service] ?? []);
      const inOrder = await snapshot();
      assert.equal(inOrder.history.length, events.length);
      assert.equal(inOrder.orderViews.length, orderIds.length);

      // Redelivering everything changes nothing and says so.
      assert.deepEqual(await applyEvents(views, events), { applied: 0, duplicates: events.length, orders: [] });
      assert.deepEqual(await snapshot(), inOrder);

      for (const seed of [1, 2, 3, 4]) {
        const random = seededRandom(seed);
        await resetViews();
        // Every event delivered twice, in random batches, in random order (an aggregate's later
        // version often before its earlier one).
        const deliveries = shuffled([...events, ...events], random);
        let applied = 0;
        for (const batch of chunks(deliveries, 1 + Math.floor(random() * 7))) {
          applied += (await applyEvents(views, batch)).applied;
        }
        assert.equal(applied, events.length, `seed ${seed}: each event applied once`);
        assert.deepEqual(await snapshot(), inOrder, `seed ${seed}`);
      }
    });

    test('the view of each saga path', async () => {
      await resetViews();
      const confirmed = await placeOrder('confirmed', { customerId: 'cus_paths' });
      const declined = await placeOrder('payment-declined', { customerId: 'cus_paths' });
      const undeliverable = await placeOrder('undeliverable', { customerId: 'cus_paths' });
      const awaitingApproval = await placeOrder('cancelled-awaiting-approval', { customerId: 'cus_paths' });
      const needsAttention = await placeOrder('needs-attention', { customerId: 'cus_paths' });
      const byService = await outboxEvents([confirmed, declined, undeliverable, awaitingApproval, needsAttention]);
      await applyEvents(views, allOf(byService));
      const view = async (orderId: string): Promise<OrderView> => {
        const found = await getOrderView(views, orderId);
        assert.ok(found, `${orderId} has a view`);
        return found;
      };
      const historyTypes = async (orderId: string) => (await getOrderHistory(views, orderId)).map((e) => e.type);

      // Confirmed: every service's record, nothing compensated.
      const payment = await db.payments.payment.findFirstOrThrow({ where: { orderId: confirmed } });
      const shipment = await db.shipping.shipment.findFirstOrThrow({ where: { orderId: confirmed } });
      const reservation = await db.inventory.reservation.findFirstOrThrow({ where: { orderId: confirmed } });
      const { createdAt, updatedAt, lastEventId, ...confirmedView } = await view(confirmed);
      assert.deepEqual(confirmedView, {
        orderId: confirmed,
        workflowId: orderWorkflowId(confirmed),
        status: 'confirmed',
        customerId: 'cus_paths',
        currency: 'USD',
        items: [
          { sku: 'SKU-MUG', quantity: confirmedView.items[0]?.quantity, unitPriceCents: 1_200 },
          { sku: 'SKU-TEE', quantity: 1, unitPriceCents: 2_500 },
        ],
        itemCount: (confirmedView.items[0]?.quantity ?? 0) + 1,
        totalCents: (confirmedView.items[0]?.quantity ?? 0) * 1_200 + 2_500,
        reservationId: reservation.id,
        reservationStatus: 'committed',
        paymentId: payment.id,
        paymentStatus: 'charged',
        paymentAmountCents: (confirmedView.items[0]?.quantity ?? 0) * 1_200 + 2_500,
        declineReason: null,
        shipmentId: shipment.id,
        shipmentStatus: 'created',
        carrier: shipment.carrier,
        trackingNumber: shipment.trackingNumber,
        shippingCents: shipment.rateCents,
        shippingRateSource: shipment.rateSource,
        stockReleased: false,
        paymentRefunded: false,
        shipmentCancelled: false,
        cancelReason: null,
        lastEventType: 'OrderConfirmed',
        lastAggregateVersion: 2,
        eventCount: 6,
      });
      const history = await getOrderHistory(views, confirmed);
      assert.equal(lastEventId, history.at(-1)?.id);
      assert.equal(createdAt, history[0]?.occurredAt);
      assert.equal(updatedAt, history.at(-1)?.occurredAt);
      assert.deepEqual(
        history.map((event) => event.type),
        ['OrderCreated', 'StockReserved', 'PaymentCharged', 'ShipmentCreated', 'StockCommitted', 'OrderConfirmed'],
      );

      // Payment declined: the stock is back and the order cancelled with the saga's reason.
      const declinedPayment = await db.payments.payment.findFirstOrThrow({ where: { orderId: declined } });
      assertIncludes(await view(declined), {
        status: 'cancelled',
        paymentId: declinedPayment.id,
        paymentStatus: 'declined',
        declineReason: declinedPayment.declineReason,
        reservationStatus: 'released',
        stockReleased: true,
        paymentRefunded: false,
        shipmentCancelled: false,
        shipmentId: null,
        cancelReason: 'Payment declined',
        eventCount: 5,
      });
      assert.deepEqual(await historyTypes(declined), [
        'OrderCreated',
        'StockReserved',
        'PaymentDeclined',
        'StockReleased',
        'OrderCancelled',
      ]);

      // Undeliverable address: the charge refunded, the stock released, no shipment.
      assertIncludes(await view(undeliverable), {
        status: 'cancelled',
        paymentStatus: 'refunded',
        paymentRefunded: true,
        reservationStatus: 'released',
        stockReleased: true,
        shipmentId: null,
        shipmentStatus: null,
        cancelReason: 'Address undeliverable',
        eventCount: 6,
      });

      // Cancelled while awaiting approval: only the reservation to undo, no payment.
      assertIncludes(await view(awaitingApproval), {
        status: 'cancelled',
        items: [{ sku: 'SKU-LAPTOP', quantity: 1, unitPriceCents: 149_900 }],
        totalCents: 149_900,
        reservationStatus: 'released',
        stockReleased: true,
        paymentId: null,
        paymentStatus: null,
        cancelReason: 'Cancelled by the customer',
        eventCount: 4,
      });

      // Needs attention: the refund was rejected, so nothing is undone yet and the order is still pending, charged.
      assertIncludes(await view(needsAttention), {
        status: 'pending',
        paymentStatus: 'charged',
        paymentRefunded: false,
        reservationStatus: 'reserved',
        stockReleased: false,
        cancelReason: null,
        eventCount: 3,
      });

      // Part-way through an unwinding (refund done, the rest not yet delivered): compensating.
      await resetViews();
      const partial = allOf(byService).filter(
        (event) => event.correlation.orderId === undeliverable && event.aggregateType !== 'Order',
      );
      await applyEvents(
        views,
        partial.filter((event) => event.type !== 'StockReleased'),
      );
      assertIncludes(await view(undeliverable), {
        status: 'compensating',
        paymentRefunded: true,
        stockReleased: false,
        customerId: null,
      });
    });

    test('an operator resolving a needs-attention order by hand: cancelled, the charge never refunded', async () => {
      await resetViews();
      const orderId = await placeOrder('needs-attention', { resolveByHand: true });
      await applyEvents(views, allOf(await outboxEvents([orderId])));
      assertIncludes(await getOrderView(views, orderId), {
        status: 'cancelled',
        paymentStatus: 'charged',
        paymentRefunded: false,
        stockReleased: true,
        eventCount: 5,
      });
    });

    /**
     * A copy of a real order's events under new ids, written by each service's outbox writer in the
     * order the original happened: the volume of many orders at a fraction of the partners' cost.
     */
    async function cloneOrder(template: readonly DomainEvent[], copy: number): Promise<string> {
      const orderId = `ord_rm_${provider}_copy${copy}`;
      const correlation = { orderId, workflowId: orderWorkflowId(orderId) };
      const writers: Record<ServiceName, (work: (tx: OutboxWriter) => Promise<unknown>) => Promise<unknown>> = {
        orders: (work) => db.orders.$transaction((tx) => work(tx)),
        inventory: (work) => db.inventory.$transaction((tx) => work(tx)),
        payments: (work) => db.payments.$transaction((tx) => work(tx)),
        shipping: (work) => db.shipping.$transaction((tx) => work(tx)),
      };
      const serviceOf = {
        Order: 'orders',
        Reservation: 'inventory',
        Payment: 'payments',
        Shipment: 'shipping',
      } as const;
      for (const event of template) {
        await writers[serviceOf[event.aggregateType]]((tx) =>
          appendEvent(tx, {
            type: event.type,
            aggregateId: event.aggregateType === 'Order' ? orderId : `${event.aggregateId}_copy${copy}`,
            correlation,
            payload: event.payload,
          }),
        );
      }
      return orderId;
    }

    test(`rebuild equals incremental application for ${mixedOrderCount} mixed orders`, async () => {
      // Two real orders of each path (and of a needs-attention order resolved by hand), then copies of them.
      const variants = [
        ...sagaPaths.map((path) => ({ path, resolveByHand: false })),
        { path: 'needs-attention' as const, resolveByHand: true },
      ];
      const templates = await inParallel(variants.length * 2, 4, async (index) => {
        const variant = variants[index % variants.length] ?? assert.fail();
        const orderId = await placeOrder(variant.path, { ...variant, customerId: `cus_mix_${index % 7}` });
        return canonicalOrder(allOf(await outboxEvents([orderId])));
      });
      for (let copy = templates.length; copy < mixedOrderCount; copy += 1) {
        await cloneOrder(templates[copy % templates.length] ?? [], copy);
      }

      // Incrementally, as four relays would: batches of up to 50 in position order, services interleaved,
      // and now and then a batch delivered again (a relay that crashed before marking it delivered).
      await resetViews();
      const random = seededRandom(42);
      const batches = Object.fromEntries(
        Object.entries(await outboxEvents()).map(([service, events]) => [service, chunks(events, 50)]),
      );
      let delivered = 0;
      for (let round = 0; Object.values(batches).some((queue) => queue.length > 0); round += 1) {
        assert.ok(round < 10_000, 'bounded');
        for (const queue of Object.values(batches)) {
          const batch = queue.shift();
          if (!batch) continue;
          await applyEvents(views, batch);
          if (random() < 0.2) await applyEvents(views, batch);
          delivered += batch.length;
        }
      }
      const incremental = await snapshot();
      assert.equal(incremental.history.length, delivered);

      const progress: string[] = [];
      const report = await rebuildReadModel(db, views, {
        pageSize: 200,
        onProgress: (step) => progress.push(step.phase),
      });
      assert.deepEqual(await snapshot(), incremental);
      assert.equal(report.orders, incremental.orderViews.length);
      assert.equal(
        serviceNames.reduce((sum, service) => sum + report.eventsRead[service], 0),
        delivered,
      );
      assert.deepEqual(Object.values(report.unreadable).flat(), []);
      assert.equal(progress[0], 'wiped');
      assert.ok(progress.includes('folded'));

      // Every path is represented, in the statuses the paths end in.
      const statuses = new Set(incremental.orderViews.map((row) => row.status));
      assert.deepEqual([...statuses].sort(), ['cancelled', 'confirmed', 'pending']);
    });

    test('listing: filters, sorting, keyset pagination stable under inserts, and bad cursors', async () => {
      await resetViews();
      const early = await inParallel(30, 4, (index) =>
        placeOrder(sagaPaths[index % sagaPaths.length] as SagaPath, { customerId: `cus_list_${index % 3}` }),
      );
      await applyEvents(views, allOf(await outboxEvents(early)));
      const all = (await Promise.all(early.map((orderId) => getOrderView(views, orderId)))).filter(
        (found): found is OrderView => found !== null,
      );
      assert.equal(all.length, early.length);
      const ascending = [...all].sort(
        (a, b) => a.createdAt.localeCompare(b.createdAt) || (a.orderId < b.orderId ? -1 : 1),
      );
      const ids = (orders: OrderView[]) => orders.map((order) => order.orderId);

      async function pageThrough(query: ListOrdersQuery): Promise<{ orders: OrderView[]; pages: number }> {
        const orders: OrderView[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await listOrders(views, { ...query, cursor });
          orders.push(...page.orders);
          cursor = page.nextCursor ?? undefined;
          pages += 1;
          assert.ok(pages <= all.length + 1, 'bounded');
        } while (cursor);
        return { orders, pages };
      }

      // Sorting, both ways, across pages of 7.
      const newestFirst = await pageThrough({ limit: 7 });
      assert.deepEqual(ids(newestFirst.orders), ids([...ascending].reverse()));
      assert.equal(newestFirst.pages, Math.ceil(all.length / 7));
      assert.deepEqual(ids((await pageThrough({ limit: 7, sort: 'createdAt:asc' })).orders), ids(ascending));
      const firstPage = await listOrders(views);
      assert.equal(firstPage.orders.length, 20);

      // Filters, alone and together.
      assert.deepEqual(
        ids((await pageThrough({ status: 'cancelled', limit: 4 })).orders),
        ids([...ascending].reverse().filter((order) => order.status === 'cancelled')),
      );
      assert.deepEqual(
        ids((await pageThrough({ customerId: 'cus_list_1', sort: 'createdAt:asc', limit: 3 })).orders),
        ids(ascending.filter((order) => order.customerId === 'cus_list_1')),
      );
      const from = new Date(ascending[5]?.createdAt ?? 0);
      const to = new Date(ascending[20]?.createdAt ?? 0);
      const inRange = ascending.filter((order) => new Date(order.createdAt) >= from && new Date(order.createdAt) < to);
      assert.ok(inRange.length >= 10);
      assert.deepEqual(
        ids((await pageThrough({ createdFrom: from, createdTo: to, sort: 'createdAt:asc', limit: 4 })).orders),
        ids(inRange),
      );
      assert.deepEqual(
        ids(
          (
            await pageThrough({
              createdFrom: from,
              customerId: 'cus_list_0',
              status: 'confirmed',
              sort: 'createdAt:asc',
            })
          ).orders,
        ),
        ids(
          ascending.filter(
            (order) =>
              new Date(order.createdAt) >= from && order.customerId === 'cus_list_0' && order.status === 'confirmed',
          ),
        ),
      );

      // Orders projected between two pages neither repeat nor shift the rows after the cursor.
      const pageOne = await listOrders(views, { limit: 10, sort: 'createdAt:asc' });
      const late = await inParallel(5, 5, (index) => placeOrder(sagaPaths[index] as SagaPath));
      await applyEvents(views, allOf(await outboxEvents(late)));
      const rest: OrderView[] = [];
      for (let cursor = pageOne.nextCursor; cursor;) {
        const page = await listOrders(views, { limit: 10, sort: 'createdAt:asc', cursor });
        rest.push(...page.orders);
        cursor = page.nextCursor;
        assert.ok(rest.length <= all.length + late.length, 'bounded');
      }
      assert.deepEqual(ids([...pageOne.orders, ...rest]), [
        ...ids(ascending),
        ...late.sort((a, b) => {
          const created = (orderId: string) => rest.find((order) => order.orderId === orderId)?.createdAt ?? '';
          return created(a).localeCompare(created(b)) || (a < b ? -1 : 1);
        }),
      ]);

      // Cursors that cannot be used: malformed, altered, or from another query.
      const cursor = pageOne.nextCursor ?? assert.fail('a second page');
      const [body = '', check = ''] = cursor.split('.');
      const flipped = `${body.slice(0, 5)}${body[5] === 'A' ? 'B' : 'A'}${body.slice(6)}.${check}`;
      const forOtherKey = Buffer.from(
        JSON.stringify({ ...(JSON.parse(Buffer.from(body, 'base64url').toString()) as object), id: 'ord_x' }),
      ).toString('base64url');
      for (const bad of ['', 'not-a-cursor', `${body}.`, `${body}.${check}.x`, flipped, `${forOtherKey}.${check}`]) {
        await assert.rejects(
          listOrders(views, { sort: 'createdAt:asc', cursor: bad }),
          InvalidCursorError,
          JSON.stringify(bad),
        );
      }
      await assert.rejects(listOrders(views, { sort: 'createdAt:desc', cursor }), {
        name: 'InvalidCursorError',
        message: /another query/,
      });
      await assert.rejects(
        listOrders(views, { sort: 'createdAt:asc', status: 'confirmed', cursor }),
        InvalidCursorError,
      );
      await assert.rejects(listOrders(views, { limit: 0 }), RangeError);
    });

    test('a stored v1 OrderCreated still projects, from the outbox and from the history', async () => {
      await resetViews();
      const orderId = `ord_rm_${provider}_v1`;
      const workflowId = orderWorkflowId(orderId);
      const occurredAt = new Date('2026-01-02T03:04:05.678Z');
      // As code before OrderCreated v2 wrote it.
      await db.orders.outboxEvent.create({
        data: {
          eventId: ulid(occurredAt.getTime()),
          aggregateType: 'Order',
          aggregateId: orderId,
          aggregateVersion: 1,
          type: 'OrderCreated',
          schemaVersion: 1,
          payload: JSON.stringify({ customerId: 'cus_old', items: [{ sku: 'SKU-MUG', quantity: 2 }] }),
          orderId,
          workflowId,
          occurredAt,
        },
      });
      const [created] = (await outboxEvents([orderId])).orders ?? [];
      assert.ok(created);
      await applyEvents(views, [created]);
      assertIncludes(await getOrderView(views, orderId), {
        status: 'pending',
        customerId: 'cus_old',
        currency: 'USD',
        items: [{ sku: 'SKU-MUG', quantity: 2, unitPriceCents: null }],
        createdAt: '2026-01-02T03:04:05.678Z',
      });

      // A history row stored at v1 (by an older projection) is upcast whenever the order is refolded.
      await views.orderEvent.update({
        where: { eventId: created.id },
        data: {
          schemaVersion: 1,
          payload: JSON.stringify({ customerId: 'cus_old', items: [{ sku: 'SKU-MUG', quantity: 2 }] }),
        },
      });
      await applyEvents(views, [
        {
          id: ulid(occurredAt.getTime() + 1_000),
          type: 'OrderCancelled',
          schemaVersion: 1,
          aggregateType: 'Order',
          aggregateId: orderId,
          aggregateVersion: 2,
          correlation: { orderId, workflowId },
          occurredAt: new Date(occurredAt.getTime() + 1_000).toISOString(),
          payload: { reason: 'Cancelled by the customer' },
        },
      ]);
      assertIncludes(await getOrderView(views, orderId), {
        status: 'cancelled',
        customerId: 'cus_old',
        currency: 'USD',
        eventCount: 2,
      });
      const history = await getOrderHistory(views, orderId);
      assert.deepEqual(
        history.map((event) => [event.type, event.schemaVersion, event.payload]),
        [
          ['OrderCreated', 2, { customerId: 'cus_old', items: [{ sku: 'SKU-MUG', quantity: 2 }], currency: 'USD' }],
          ['OrderCancelled', 1, { reason: 'Cancelled by the customer' }],
        ],
      );
    });
  });
}
