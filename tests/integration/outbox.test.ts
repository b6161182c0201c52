import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { decodeTime, isValid, ulid } from 'ulid';
import { createInventoryActivities } from '../../src/activities/inventory';
import { createOrdersActivities } from '../../src/activities/orders';
import { createPaymentsActivities } from '../../src/activities/payments';
import { createShippingActivities } from '../../src/activities/shipping';
import { type OrdersDb, type ServiceDatabases } from '../../src/db';
import {
  blockedCustomerId,
  paymentTokens,
  soldOutSku,
  undeliverablePostalCode,
} from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import {
  appendEvent,
  readOutboxEvent,
  UnreadableEvent,
  upcastPayload,
  type DomainEvent,
  type OutboxEventRow,
} from '../../src/events';
import { newEventId } from '../../src/events/ids';
import { type CarrierClient } from '../../src/partners/carrier-client';
import {
  createGatewayClient,
  defaultGatewayClientOptions,
  type GatewayClient,
} from '../../src/partners/gateway-client';
import { orderWorkflowId } from '../../src/temporal/names';
import { rejectionOf, silentLogger } from '../support/run-activity';
import { providers, skipReason, migratedServiceDatabases } from '../support/service-databases';
import { startPartners, type TestPartners } from '../support/partners';
import { springfieldAddress as address } from '../support/sample-orders';

/**
 * Each service's transactional outbox against its real database: every
 * activity that changes something writes exactly its event, in the same
 * transaction (a repeat, a rejection or a failure after the change writes
 * none); an aggregate's events are numbered 1, 2, 3…; stored v1 payloads are
 * read back at the current version.
 *
 *   node --import tsx --test tests/integration/outbox.test.ts
 */

/** A stored outbox row, the relay's columns included. */
interface StoredRow extends OutboxEventRow {
  position: number;
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  deliveredAt: Date | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
}

/** What every service's client offers for reading its outbox. */
interface OutboxTable {
  outboxEvent: {
    findMany(args: { where: { orderId: string }; orderBy: { position: 'asc' } }): PromiseLike<StoredRow[]>;
  };
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

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`transactional outbox on ${provider}`, { skip }, () => {
    let db: ServiceDatabases;
    let close: () => Promise<void>;
    let sequence = 0;

    before(async () => {
      ({ db, close } = await migratedServiceDatabases(provider));
    });

    after(async () => {
      await close?.();
    });

    /** A new order's ids, as the saga names them: the workflow id, and the key of each of its steps. */
    const newOrder = () => {
      const orderId = `ord_outbox_${provider}_${++sequence}`;
      const workflowId = orderWorkflowId(orderId);
      return { orderId, workflowId, keyOf: (step: string) => `${workflowId}:${step}` };
    };

    /** Runs an activity as the order's workflow would: its context names the workflow. */
    const run = <A extends unknown[], R>(workflowId: string, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
      new MockActivityEnvironment({ workflowExecution: { workflowId, runId: 'run-1' } }, { logger: silentLogger }).run(
        fn,
        ...args,
      );

    const rowsOf = (table: OutboxTable, orderId: string) =>
      table.outboxEvent.findMany({ where: { orderId }, orderBy: { position: 'asc' } });

    const eventsOf = async (table: OutboxTable, orderId: string): Promise<DomainEvent[]> =>
      (await rowsOf(table, orderId)).map(readOutboxEvent);

    /** The fields that say which event it is and in what order; the rest is asserted separately. */
    const outline = (events: DomainEvent[]) =>
      events.map((event) => [event.type, event.aggregateType, event.aggregateId, event.aggregateVersion]);

    function assertEnvelope(event: DomainEvent, correlation: { orderId: string; workflowId: string }): void {
      assert.ok(isValid(event.id), `${event.id} is a ULID`);
      assert.deepEqual(event.correlation, correlation);
      assert.equal(decodeTime(event.id), Date.parse(event.occurredAt), 'the id carries the time it occurred');
      assert.ok(Math.abs(Date.now() - Date.parse(event.occurredAt)) < 60_000, event.occurredAt);
    }

    test('the orders service: OrderCreated and OrderConfirmed, once each however often the steps run', async () => {
      const orders = createOrdersActivities(db.orders);
      const { orderId, workflowId, keyOf } = newOrder();
      const items = [
        { sku: 'SKU-MUG', quantity: 2 },
        { sku: 'SKU-TEE', quantity: 1 },
      ];
      const create = { key: keyOf('create-order'), orderId, workflowId, customerId: 'cus_ada', items };
      await run(workflowId, orders.createOrder, create);
      await run(workflowId, orders.createOrder, create);
      const shippingRate = { source: 'carrier-quote' as const, amountCents: 740, quoteId: 'q_1', service: 'ground' };
      const confirm = {
        key: keyOf('confirm-order'),
        orderId,
        totalCents: 4_900,
        paymentId: 'pay_1',
        shipmentId: 'shp_1',
        shippingRate,
      };
      await run(workflowId, orders.confirmOrder, confirm);
      await run(workflowId, orders.confirmOrder, confirm);

      const events = await eventsOf(db.orders, orderId);
      assert.deepEqual(outline(events), [
        ['OrderCreated', 'Order', orderId, 1],
        ['OrderConfirmed', 'Order', orderId, 2],
      ]);
      const [created, confirmed] = events;
      assert.ok(created?.type === 'OrderCreated' && confirmed?.type === 'OrderConfirmed');
      for (const event of events) assertEnvelope(event, { orderId, workflowId });
      assert.equal(created.schemaVersion, 2);
      assert.deepEqual(created.payload, { customerId: 'cus_ada', items, currency: 'USD' });
      assert.equal(confirmed.schemaVersion, 1);
      assert.deepEqual(confirmed.payload, {
        totalCents: 4_900,
        currency: 'USD',
        paymentId: 'pay_1',
        shipmentId: 'shp_1',
        shippingRate,
      });
      assert.ok(created.id < confirmed.id, 'ids sort in the order the events were written');

      const rows = await rowsOf(db.orders, orderId);
      for (const row of rows) {
        assert.equal(row.schemaVersion, row.type === 'OrderCreated' ? 2 : 1, 'written at the current version');
        assert.deepEqual(
          [row.status, row.attempts, row.lastError, row.deliveredAt, row.leaseOwner, row.leaseExpiresAt],
          ['PENDING', 0, null, null, null, null],
          'waiting for the relay',
        );
        assert.ok(row.nextAttemptAt.getTime() <= Date.now() + 1_000, 'due at once');
      }
    });

    test('cancelOrder records OrderCancelled with its reason once; a cancellation that changes nothing records nothing', async () => {
      const orders = createOrdersActivities(db.orders);
      const { orderId, workflowId, keyOf } = newOrder();
      const key = keyOf('create-order');
      await run(workflowId, orders.createOrder, {
        key,
        orderId,
        workflowId,
        customerId: 'cus_ada',
        items: [{ sku: 'SKU-MUG', quantity: 1 }],
      });
      const cancel = { stepKey: key, orderId, reason: 'payment declined' };
      assert.deepEqual(await run(workflowId, orders.cancelOrder, cancel), { cancelled: true });
      assert.deepEqual(await run(workflowId, orders.cancelOrder, cancel), { cancelled: true });
      const events = await eventsOf(db.orders, orderId);
      assert.deepEqual(outline(events), [
        ['OrderCreated', 'Order', orderId, 1],
        ['OrderCancelled', 'Order', orderId, 2],
      ]);
      assert.deepEqual(events[1]?.payload, { reason: 'payment declined' });

      const never = newOrder();
      const nothingToCancel = { stepKey: never.keyOf('create-order'), orderId: never.orderId, reason: 'cancelled' };
      assert.deepEqual(await run(never.workflowId, orders.cancelOrder, nothingToCancel), { cancelled: false });
      assert.deepEqual(await rowsOf(db.orders, never.orderId), []);
    });

    test('a rejected step records nothing: a blocked customer has no order and no event', async () => {
      const orders = createOrdersActivities(db.orders);
      const { orderId, workflowId, keyOf } = newOrder();
      const input = {
        key: keyOf('create-order'),
        orderId,
        workflowId,
        customerId: blockedCustomerId,
        items: [{ sku: 'SKU-MUG', quantity: 1 }],
      };
      assert.equal(await rejectionOf(run(workflowId, orders.createOrder, input)), rejectionTypes.customerBlocked);
      assert.equal(await rejectionOf(run(workflowId, orders.createOrder, input)), rejectionTypes.customerBlocked);
      assert.equal(await db.orders.order.count({ where: { id: orderId } }), 0);
      assert.deepEqual(await rowsOf(db.orders, orderId), []);
    });

    test('a failure inside the transaction after the change leaves neither the change nor the event', async () => {
      const { orderId, workflowId, keyOf } = newOrder();
      const input = {
        key: keyOf('create-order'),
        orderId,
        workflowId,
        customerId: 'cus_ada',
        items: [{ sku: 'SKU-MUG', quantity: 1 }],
      };
      // The work (order and event) is done; storing the step's result under its key, last in the transaction, fails.
      const failing = createOrdersActivities(failingAfterWork(db.orders));
      await assert.rejects(run(workflowId, failing.createOrder, input), /the database went away/);
      assert.equal(await db.orders.order.count({ where: { id: orderId } }), 0);
      assert.deepEqual(await rowsOf(db.orders, orderId), []);

      // The retry starts from nothing: one order, its first event at version 1.
      await run(workflowId, createOrdersActivities(db.orders).createOrder, input);
      assert.deepEqual(outline(await eventsOf(db.orders, orderId)), [['OrderCreated', 'Order', orderId, 1]]);
    });

    test('the inventory service: StockReserved, StockCommitted, StockReleased, versions 1 to 3, once each', async () => {
      const inventory = createInventoryActivities(db.inventory);
      const { orderId, workflowId, keyOf } = newOrder();
      const stepKey = keyOf('reserve-stock');
      const reserve = {
        key: stepKey,
        orderId,
        items: [
          { sku: 'SKU-TEE', quantity: 2 },
          { sku: 'SKU-HOODIE', quantity: 1 },
        ],
      };
      const reservation = await run(workflowId, inventory.reserveStock, reserve);
      await run(workflowId, inventory.reserveStock, reserve);
      const commit = { key: `${keyOf('confirm-order')}:commit-reservation`, stepKey, orderId };
      await run(workflowId, inventory.commitReservation, commit);
      await run(workflowId, inventory.commitReservation, commit);
      await run(workflowId, inventory.releaseStock, { stepKey, orderId });
      await run(workflowId, inventory.releaseStock, { stepKey, orderId });

      const events = await eventsOf(db.inventory, orderId);
      const { reservationId } = reservation;
      assert.deepEqual(outline(events), [
        ['StockReserved', 'Reservation', reservationId, 1],
        ['StockCommitted', 'Reservation', reservationId, 2],
        ['StockReleased', 'Reservation', reservationId, 3],
      ]);
      for (const event of events) assertEnvelope(event, { orderId, workflowId });
      assert.deepEqual(events[0]?.payload, {
        lines: [
          { sku: 'SKU-TEE', quantity: 2, unitPriceCents: 2_500 },
          { sku: 'SKU-HOODIE', quantity: 1, unitPriceCents: 5_900 },
        ],
        totalCents: 10_900,
      });
      const lines = [...reserve.items].sort((a, b) => a.sku.localeCompare(b.sku));
      const byKey = (payload: unknown) => {
        const { lines: found } = payload as { lines: { sku: string }[] };
        return { lines: [...found].sort((a, b) => a.sku.localeCompare(b.sku)) };
      };
      assert.deepEqual(byKey(events[1]?.payload), { lines });
      assert.deepEqual(byKey(events[2]?.payload), { lines });
    });

    test('the inventory service: out of stock and a release with nothing reserved record nothing', async () => {
      const inventory = createInventoryActivities(db.inventory);
      const { orderId, workflowId, keyOf } = newOrder();
      const reserve = {
        key: keyOf('reserve-stock'),
        orderId,
        items: [
          { sku: 'SKU-MUG', quantity: 1 },
          { sku: soldOutSku, quantity: 1 },
        ],
      };
      assert.equal(await rejectionOf(run(workflowId, inventory.reserveStock, reserve)), rejectionTypes.outOfStock);
      const never = newOrder();
      const release = { stepKey: never.keyOf('reserve-stock'), orderId: never.orderId };
      assert.deepEqual(await run(never.workflowId, inventory.releaseStock, release), { released: false });
      assert.deepEqual(await rowsOf(db.inventory, orderId), []);
      assert.deepEqual(await rowsOf(db.inventory, never.orderId), []);
    });

    test('the payments service: PaymentCharged then PaymentRefunded, once each', async () => {
      const payments = createPaymentsActivities(db.payments, gatewayClient);
      const { orderId, workflowId, keyOf } = newOrder();
      const charge = {
        key: keyOf('charge-payment'),
        orderId,
        amountCents: 4_900,
        paymentToken: paymentTokens.approved,
      };
      const { paymentId } = await run(workflowId, payments.chargePayment, charge);
      await run(workflowId, payments.chargePayment, charge);
      const refund = { stepKey: charge.key, orderId };
      assert.deepEqual(await run(workflowId, payments.refundPayment, refund), { refunded: true });
      assert.deepEqual(await run(workflowId, payments.refundPayment, refund), { refunded: true });

      const row = await db.payments.payment.findUniqueOrThrow({ where: { id: paymentId } });
      const events = await eventsOf(db.payments, orderId);
      assert.deepEqual(outline(events), [
        ['PaymentCharged', 'Payment', paymentId, 1],
        ['PaymentRefunded', 'Payment', paymentId, 2],
      ]);
      for (const event of events) assertEnvelope(event, { orderId, workflowId });
      assert.deepEqual(events[0]?.payload, {
        amountCents: 4_900,
        currency: 'USD',
        gatewayChargeId: row.gatewayChargeId,
      });
      assert.deepEqual(events[1]?.payload, {
        amountCents: 4_900,
        currency: 'USD',
        gatewayRefundId: row.gatewayRefundId,
      });
    });

    test('the payments service: a decline is PaymentDeclined; refunding it records nothing more', async () => {
      const payments = createPaymentsActivities(db.payments, gatewayClient);
      const { orderId, workflowId, keyOf } = newOrder();
      const charge = {
        key: keyOf('charge-payment'),
        orderId,
        amountCents: 1_200,
        paymentToken: paymentTokens.declined,
      };
      assert.equal(await rejectionOf(run(workflowId, payments.chargePayment, charge)), rejectionTypes.paymentDeclined);
      assert.equal(await rejectionOf(run(workflowId, payments.chargePayment, charge)), rejectionTypes.paymentDeclined);
      assert.deepEqual(await run(workflowId, payments.refundPayment, { stepKey: charge.key, orderId }), {
        refunded: false,
      });
      const row = await db.payments.payment.findUniqueOrThrow({ where: { key: charge.key } });
      const events = await eventsOf(db.payments, orderId);
      assert.deepEqual(outline(events), [['PaymentDeclined', 'Payment', row.id, 1]]);
      assert.deepEqual(events[0]?.payload, {
        amountCents: 1_200,
        currency: 'USD',
        reason: row.declineReason,
        gatewayChargeId: row.gatewayChargeId,
      });
    });

    test('the payments service: a refund that settles a charge the service never recorded records both', async () => {
      // The gateway charges, then answers after the caller gave up: the charge's outcome is unknown to the service.
      const impatient = createGatewayClient({
        ...defaultGatewayClientOptions,
        callTimeoutMs: 1_000,
        baseUrl: partners!.gateway.process.url,
      });
      const { orderId, workflowId, keyOf } = newOrder();
      const charge = {
        key: keyOf('charge-payment'),
        orderId,
        amountCents: 2_500,
        paymentToken: paymentTokens.timeoutAfterCharge,
      };
      const failure = await run(
        workflowId,
        createPaymentsActivities(db.payments, impatient).chargePayment,
        charge,
      ).then(
        () => assert.fail('expected the charge to time out'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof ApplicationFailure && !failure.nonRetryable, String(failure));
      assert.deepEqual(await rowsOf(db.payments, orderId), [], 'a claim is not a domain event');

      // The refund finds the charge by order at the gateway, refunds it and records both.
      const payments = createPaymentsActivities(db.payments, gatewayClient);
      assert.deepEqual(await run(workflowId, payments.refundPayment, { stepKey: charge.key, orderId }), {
        refunded: true,
      });
      assert.deepEqual(await run(workflowId, payments.refundPayment, { stepKey: charge.key, orderId }), {
        refunded: true,
      });
      const row = await db.payments.payment.findUniqueOrThrow({ where: { key: charge.key } });
      const events = await eventsOf(db.payments, orderId);
      assert.deepEqual(outline(events), [
        ['PaymentCharged', 'Payment', row.id, 1],
        ['PaymentRefunded', 'Payment', row.id, 2],
      ]);
      assert.deepEqual(
        events.map((event) => event.payload),
        [
          { amountCents: 2_500, currency: 'USD', gatewayChargeId: row.gatewayChargeId },
          { amountCents: 2_500, currency: 'USD', gatewayRefundId: row.gatewayRefundId },
        ],
      );
    });

    test('the shipping service: ShipmentCreated and ShipmentCancelled once each; an undeliverable address records nothing', async () => {
      const shipping = createShippingActivities(db.shipping, carrierClient);
      const { orderId, workflowId, keyOf } = newOrder();
      const create = { key: keyOf('create-shipment'), orderId, address, itemCount: 3 };
      const shipment = await run(workflowId, shipping.createShipment, create);
      await run(workflowId, shipping.createShipment, create);
      await run(workflowId, shipping.cancelShipment, { stepKey: create.key, orderId });
      await run(workflowId, shipping.cancelShipment, { stepKey: create.key, orderId });

      const events = await eventsOf(db.shipping, orderId);
      assert.deepEqual(outline(events), [
        ['ShipmentCreated', 'Shipment', shipment.shipmentId, 1],
        ['ShipmentCancelled', 'Shipment', shipment.shipmentId, 2],
      ]);
      for (const event of events) assertEnvelope(event, { orderId, workflowId });
      assert.deepEqual(events[0]?.payload, {
        carrier: shipment.carrier,
        trackingNumber: shipment.trackingNumber,
        rate: shipment.rate,
      });
      assert.equal(shipment.rate.source, 'carrier-quote', 'the carrier quoted');
      assert.deepEqual(events[1]?.payload, { trackingNumber: shipment.trackingNumber });

      const undeliverable = newOrder();
      const refused = {
        key: undeliverable.keyOf('create-shipment'),
        orderId: undeliverable.orderId,
        address: { ...address, postalCode: undeliverablePostalCode },
        itemCount: 1,
      };
      assert.equal(
        await rejectionOf(run(undeliverable.workflowId, shipping.createShipment, refused)),
        rejectionTypes.addressUndeliverable,
      );
      assert.deepEqual(await rowsOf(db.shipping, undeliverable.orderId), []);
    });

    test('two transactions cannot give one aggregate version twice', async () => {
      const { orderId, workflowId } = newOrder();
      const event = {
        type: 'OrderCancelled' as const,
        aggregateId: orderId,
        correlation: { orderId, workflowId },
        payload: { reason: 'first' },
      };
      await db.orders.$transaction((tx) => appendEvent(tx, event));
      // A transaction that read the highest version before the first one committed, as in a race.
      const stale = db.orders.$transaction((tx) =>
        appendEvent(
          { outboxEvent: { findFirst: () => Promise.resolve(null), create: (args) => tx.outboxEvent.create(args) } },
          { ...event, payload: { reason: 'second' } },
        ),
      );
      await assert.rejects(stale, (error: unknown) => (error as { code?: unknown }).code === 'P2002');
      const events = await eventsOf(db.orders, orderId);
      assert.deepEqual(
        events.map((stored) => [stored.aggregateVersion, stored.payload]),
        [[1, { reason: 'first' }]],
      );
    });

    test('ids sort in creation order: by id = by position = by aggregate version', async () => {
      const { orderId, workflowId } = newOrder();
      const count = 40;
      await db.orders.$transaction(async (tx) => {
        for (let index = 0; index < count; index += 1) {
          await appendEvent(tx, {
            type: 'OrderCancelled',
            aggregateId: orderId,
            correlation: { orderId, workflowId },
            payload: { reason: `event ${index}` },
          });
        }
      });
      const rows = await rowsOf(db.orders, orderId);
      assert.equal(rows.length, count);
      assert.deepEqual(
        rows.map((row) => row.aggregateVersion),
        Array.from({ length: count }, (_, index) => index + 1),
      );
      const ids = rows.map((row) => row.eventId);
      assert.deepEqual([...ids].sort(), ids, 'sorted by id = sorted by position');
      assert.equal(new Set(ids).size, count);
    });

    test('stored v1 OrderCreated rows are read back as v2 through the upcaster, and stay v1 in the table', async () => {
      const { orderId, workflowId } = newOrder();
      const v1Payloads = [
        { customerId: 'cus_ada', items: [{ sku: 'SKU-MUG', quantity: 2 }] },
        { customerId: 'cus_bob', items: [{ sku: 'SKU-TEE', quantity: 1 }] },
      ];
      // As code before OrderCreated v2 wrote them (two orders' worth, one aggregate each).
      const occurredAt = new Date('2026-01-02T03:04:05.678Z');
      for (const [index, payload] of v1Payloads.entries()) {
        await db.orders.outboxEvent.create({
          data: {
            eventId: ulid(occurredAt.getTime()),
            aggregateType: 'Order',
            aggregateId: `${orderId}_${index}`,
            aggregateVersion: 1,
            type: 'OrderCreated',
            schemaVersion: 1,
            payload: JSON.stringify(payload),
            orderId,
            workflowId,
            occurredAt,
          },
        });
      }
      const events = await eventsOf(db.orders, orderId);
      assert.deepEqual(
        events.map((event) => [event.type, event.schemaVersion, event.payload, event.occurredAt]),
        v1Payloads.map((payload) => ['OrderCreated', 2, { ...payload, currency: 'USD' }, '2026-01-02T03:04:05.678Z']),
      );
      const rows = await rowsOf(db.orders, orderId);
      assert.deepEqual(
        rows.map((row) => [row.schemaVersion, JSON.parse(row.payload) as unknown]),
        v1Payloads.map((payload) => [1, payload]),
        'reading does not rewrite the stored rows',
      );
    });
  });
}

test('event ids increase within one millisecond and when the clock steps back', () => {
  const now = Date.now();
  const sameMillisecond = Array.from({ length: 1_000 }, () => newEventId(now));
  const afterClockStepBack = newEventId(now - 5_000);
  const ids = [...sameMillisecond, afterClockStepBack];
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.every((id) => decodeTime(id) === now));
});

describe('upcasting', () => {
  test('a v2 payload is taken as it is; v1 gains the currency every order had before v2', () => {
    const v2 = { customerId: 'cus_ada', items: [{ sku: 'SKU-MUG', quantity: 1 }], currency: 'EUR' };
    assert.deepEqual(upcastPayload('OrderCreated', 2, v2), v2);
    assert.deepEqual(upcastPayload('OrderCreated', 1, { customerId: 'cus_ada', items: v2.items }), {
      ...v2,
      currency: 'USD',
    });
  });

  test('what cannot be read is refused as UnreadableEvent, not guessed at', () => {
    const items = [{ sku: 'SKU-MUG', quantity: 1 }];
    assert.throws(() => upcastPayload('OrderCreated', 3, { customerId: 'c', items }), UnreadableEvent);
    assert.throws(() => upcastPayload('OrderCreated', 0, { customerId: 'c', items }), UnreadableEvent);
    assert.throws(() => upcastPayload('OrderCreated', 1, { customerId: 'c' }), UnreadableEvent);
    assert.throws(() => upcastPayload('OrderShipped', 1, {}), UnreadableEvent);
  });
});

/**
 * The orders client, with every transaction's `idempotencyRecord.create`
 * failing: executeOnce calls it after the step's work, so the work's writes
 * are made and then the transaction fails.
 */
function failingAfterWork(db: OrdersDb): OrdersDb {
  type Tx = Parameters<Parameters<OrdersDb['$transaction']>[0]>[0];
  const withFailingRecord = (tx: Tx): Tx => {
    const records = new Proxy(tx.idempotencyRecord, {
      get: (target, name): unknown =>
        name === 'create'
          ? () => Promise.reject(new Error('the database went away'))
          : (Reflect.get(target, name) as unknown),
    });
    return new Proxy(tx, {
      get: (target, name): unknown => (name === 'idempotencyRecord' ? records : Reflect.get(target, name)),
    });
  };
  return new Proxy(db, {
    get: (target, name): unknown =>
      name === '$transaction'
        ? <R>(work: (tx: Tx) => Promise<R>) => target.$transaction((tx) => work(withFailingRecord(tx)))
        : Reflect.get(target, name),
  });
}
