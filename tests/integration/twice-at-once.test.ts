import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createInventoryActivities } from '../../src/activities/inventory';
import { createOrdersActivities } from '../../src/activities/orders';
import { createShippingActivities } from '../../src/activities/shipping';
import { type ServiceDatabases } from '../../src/db';
import type { CarrierClient } from '../../src/partners/carrier-client';
import { providers, skipReason, migratedServiceDatabases, type Provider } from '../support/service-databases';
import { runActivityQuietly } from '../support/run-activity';

/**
 * The same activity with the same input, executed twice at once (an attempt Temporal gave up on still running
 * beside its retry), many times over, against the real databases: both executions must answer, and answer the
 * same, as executeOnce promises (the loser of the race returns the winner's stored answer), and the work is done
 * once. The fault matrix (tests/integration/fault-matrix.test.ts) races each activity once inside a whole saga; this races
 * the ones whose duplicates are settled in their own database often enough to catch a race that is lost only
 * sometimes. The charge and the refund are left out: two calls under one Idempotency-Key at once are settled by
 * the gateway, which answers the second 409 (retry shortly) by design.
 */

/** Pairs per activity: on PostgreSQL both executions really overlap; SQLite runs write transactions one at a time. */
const pairs: Record<Provider, number> = { postgres: 40, sqlite: 10 };

/** The carrier's quote, without the carrier: the race is in the shipping database. */
const flatRateCarrier = {
  quote: () => Promise.resolve({ source: 'flat-rate' as const, amountCents: 500, reason: 'test carrier' }),
} as unknown as CarrierClient;

/** Runs `activity` twice at once with `input`; the failures, or a difference between the two answers. */
async function twiceAtOnce<I>(activity: (input: I) => Promise<unknown>, input: I): Promise<string[]> {
  const [first, second] = await Promise.allSettled([
    runActivityQuietly(activity, input),
    runActivityQuietly(activity, input),
  ]);
  const problems = [first, second].flatMap((outcome) =>
    outcome.status === 'rejected'
      ? [
          String((outcome.reason as Error).message)
            .split('\n')
            .filter(Boolean)
            .at(-1)!
            .slice(0, 160),
        ]
      : [],
  );
  if (first.status === 'fulfilled' && second.status === 'fulfilled' && !isDeepStrictEqual(first.value, second.value)) {
    problems.push(`two answers: ${JSON.stringify(first.value)} / ${JSON.stringify(second.value)}`);
  }
  return problems;
}

/** The problems seen over all pairs, counted by message: [] when every pair answered twice, the same. */
function tally(problems: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const problem of problems) counts.set(problem, (counts.get(problem) ?? 0) + 1);
  return [...counts];
}

for (const provider of providers) {
  describe(`the same activity twice at once on ${provider}`, { skip: skipReason(provider) }, () => {
    let close: () => Promise<void>;
    let db: ServiceDatabases;
    const rounds = pairs[provider];

    before(async () => {
      ({ db, close } = await migratedServiceDatabases(provider));
    });
    after(async () => {
      await close?.();
    });

    /** Each pair's own order, with what every step before `upTo` recorded for it (executed once, plainly). */
    async function ordersReadyFor(upTo: 'create' | 'reserve' | 'ship' | 'confirm', label: string) {
      const orders = createOrdersActivities(db.orders);
      const inventory = createInventoryActivities(db.inventory);
      const shipping = createShippingActivities(db.shipping, flatRateCarrier);
      const ready = [];
      for (let index = 0; index < rounds; index += 1) {
        const orderId = `ord_twice_${label}_${index}`;
        const workflowId = `order-${orderId}`;
        const keys = {
          create: `${workflowId}:create-order`,
          reserve: `${workflowId}:reserve-stock`,
          ship: `${workflowId}:create-shipment`,
          confirm: `${workflowId}:confirm-order`,
        };
        const items = [
          { sku: 'SKU-TEE', quantity: 1 },
          { sku: 'SKU-MUG', quantity: 1 },
        ];
        if (upTo !== 'create') {
          await runActivityQuietly(orders.createOrder, {
            key: keys.create,
            orderId,
            workflowId,
            customerId: 'cus_42',
            items,
          });
        }
        if (upTo === 'ship' || upTo === 'confirm') {
          await runActivityQuietly(inventory.reserveStock, { key: keys.reserve, orderId, items });
        }
        const shipment =
          upTo === 'confirm'
            ? await runActivityQuietly(shipping.createShipment, {
                key: keys.ship,
                orderId,
                address: {
                  recipient: 'Ada',
                  line1: '1 Loop St',
                  city: 'Springfield',
                  postalCode: '12345',
                  country: 'US',
                },
                itemCount: 2,
              })
            : undefined;
        ready.push({ orderId, workflowId, keys, items, shipment });
      }
      return { ready, orders, inventory, shipping };
    }

    test('the forward steps: create-order, reserve-stock, create-shipment, commit-reservation, confirm-order', async () => {
      const problems: Record<string, string[]> = {
        createOrder: [],
        reserveStock: [],
        createShipment: [],
        commitReservation: [],
        confirmOrder: [],
      };
      const { ready, orders, inventory, shipping } = await ordersReadyFor('create', 'steps');
      for (const { orderId, workflowId, keys, items } of ready) {
        problems.createOrder!.push(
          ...(await twiceAtOnce(orders.createOrder, {
            key: keys.create,
            orderId,
            workflowId,
            customerId: 'cus_42',
            items,
          })),
        );
        problems.reserveStock!.push(
          ...(await twiceAtOnce(inventory.reserveStock, { key: keys.reserve, orderId, items })),
        );
        problems.createShipment!.push(
          ...(await twiceAtOnce(shipping.createShipment, {
            key: keys.ship,
            orderId,
            address: { recipient: 'Ada', line1: '1 Loop St', city: 'Springfield', postalCode: '12345', country: 'US' },
            itemCount: 2,
          })),
        );
        problems.commitReservation!.push(
          ...(await twiceAtOnce(inventory.commitReservation, {
            key: `${keys.confirm}:commit-reservation`,
            stepKey: keys.reserve,
            orderId,
          })),
        );
        const shipment = await db.shipping.shipment.findUniqueOrThrow({ where: { key: keys.ship } });
        problems.confirmOrder!.push(
          ...(await twiceAtOnce(orders.confirmOrder, {
            key: keys.confirm,
            orderId,
            totalCents: 3_700,
            paymentId: `pay_${orderId}`,
            shipmentId: shipment.id,
            shippingRate: { source: 'flat-rate', amountCents: 500, reason: 'test carrier' },
          })),
        );
      }
      assert.deepEqual(
        Object.fromEntries(Object.entries(problems).map(([activity, seen]) => [activity, tally(seen)])),
        { createOrder: [], reserveStock: [], createShipment: [], commitReservation: [], confirmOrder: [] },
        `every pair of ${rounds} answered twice, the same`,
      );
      const orderIds = ready.map(({ orderId }) => orderId);
      assert.equal(await db.orders.order.count({ where: { id: { in: orderIds }, status: 'CONFIRMED' } }), rounds);
      assert.equal(await db.inventory.reservation.count({ where: { orderId: { in: orderIds } } }), rounds);
      assert.equal(await db.shipping.shipment.count({ where: { orderId: { in: orderIds } } }), rounds);
      assert.equal(
        await db.orders.outboxEvent.count({ where: { orderId: { in: orderIds }, type: 'OrderConfirmed' } }),
        rounds,
        'each order confirmed once',
      );
      assert.equal(
        await db.inventory.outboxEvent.count({ where: { orderId: { in: orderIds }, type: 'StockCommitted' } }),
        rounds,
        'each reservation committed once',
      );
    });

    test('the compensations: cancel-shipment, release-stock, cancel-order', async () => {
      const problems: Record<string, string[]> = { cancelShipment: [], releaseStock: [], cancelOrder: [] };
      const { ready, orders, inventory, shipping } = await ordersReadyFor('confirm', 'compensations');
      const before = await db.inventory.product.findMany({ where: { sku: { in: ['SKU-MUG', 'SKU-TEE'] } } });
      for (const { orderId, keys } of ready) {
        problems.cancelShipment!.push(...(await twiceAtOnce(shipping.cancelShipment, { stepKey: keys.ship, orderId })));
        problems.releaseStock!.push(...(await twiceAtOnce(inventory.releaseStock, { stepKey: keys.reserve, orderId })));
        problems.cancelOrder!.push(
          ...(await twiceAtOnce(orders.cancelOrder, { stepKey: keys.create, orderId, reason: 'raced' })),
        );
      }
      assert.deepEqual(
        Object.fromEntries(Object.entries(problems).map(([activity, seen]) => [activity, tally(seen)])),
        { cancelShipment: [], releaseStock: [], cancelOrder: [] },
        `every pair of ${rounds} answered twice, the same`,
      );
      const after = await db.inventory.product.findMany({ where: { sku: { in: ['SKU-MUG', 'SKU-TEE'] } } });
      for (const product of after) {
        const earlier = before.find(({ sku }) => sku === product.sku)!;
        assert.equal(product.available, earlier.available + rounds, `${product.sku} was released once per order`);
      }
      const orderIds = ready.map(({ orderId }) => orderId);
      assert.equal(await db.orders.order.count({ where: { id: { in: orderIds }, status: 'CANCELLED' } }), rounds);
      assert.equal(
        await db.shipping.shipment.count({ where: { orderId: { in: orderIds }, status: 'CANCELLED' } }),
        rounds,
      );
      assert.equal(
        await db.inventory.outboxEvent.count({ where: { orderId: { in: orderIds }, type: 'StockReleased' } }),
        rounds,
        'each reservation released once',
      );
    });
  });
}
