import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createInventoryActivities } from '../../src/activities/inventory';
import { createOrdersActivities } from '../../src/activities/orders';
import { type ServiceDatabases } from '../../src/db';
import { rejectionTypes } from '../../src/domain/rejections';
import { rejectionOf, runActivity } from '../support/run-activity';
import { providers, skipReason, migratedServiceDatabases } from '../support/service-databases';

/**
 * Each service's activities against its real database (payments and
 * shipping, which also call their partners, in payments.test.ts and
 * shipping.test.ts): executed twice (one after the other, or racing), a step
 * or a compensation has one effect and answers the same; a compensation
 * fences a late step.
 */

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`service activities on ${provider}`, { skip }, () => {
    let db: ServiceDatabases;
    let close: () => Promise<void>;
    let sequence = 0;
    const newKey = (step: string) => `order-act-${provider}-${++sequence}:${step}`;

    before(async () => {
      ({ db, close } = await migratedServiceDatabases(provider));
    });

    after(async () => {
      await close?.();
    });

    const stock = async (sku: string) => (await db.inventory.product.findUniqueOrThrow({ where: { sku } })).available;

    test('createOrder and cancelOrder, twice each: one order, cancelled once', async () => {
      const orders = createOrdersActivities(db.orders);
      const key = newKey('create-order');
      const orderId = `ord_${key}`;
      const input = {
        key,
        orderId,
        workflowId: `wf-${orderId}`,
        customerId: 'cus_1',
        items: [{ sku: 'SKU-MUG', quantity: 1 }],
      };
      assert.deepEqual(await runActivity(orders.createOrder, input), { orderId });
      assert.deepEqual(await runActivity(orders.createOrder, input), { orderId });
      assert.equal(await db.orders.order.count({ where: { id: orderId } }), 1);

      const cancel = { stepKey: key, orderId, reason: 'test' };
      assert.deepEqual(await runActivity(orders.cancelOrder, cancel), { cancelled: true });
      assert.deepEqual(
        await runActivity(orders.cancelOrder, cancel),
        { cancelled: true },
        'the stored answer, not a second run',
      );
      assert.equal((await db.orders.order.findUniqueOrThrow({ where: { id: orderId } })).status, 'CANCELLED');
    });

    test('createOrder for an order placed with another body (a run after retention) is refused; the same body replays', async () => {
      const orders = createOrdersActivities(db.orders);
      const key = newKey('create-order');
      const orderId = `ord_${key}`;
      const input = {
        key,
        orderId,
        workflowId: `wf-${orderId}`,
        customerId: 'cus_1',
        items: [{ sku: 'SKU-MUG', quantity: 1 }],
        requestFingerprint: 'sha256:first-body',
      };
      assert.deepEqual(await runActivity(orders.createOrder, input), { orderId });
      const otherBody = { ...input, items: [{ sku: 'SKU-MUG', quantity: 5 }], requestFingerprint: 'sha256:other' };
      assert.equal(await rejectionOf(runActivity(orders.createOrder, otherBody)), rejectionTypes.idempotencyKeyReused);
      assert.deepEqual(await runActivity(orders.createOrder, input), { orderId }, 'the same body: the stored answer');
      const row = await db.orders.order.findUniqueOrThrow({ where: { id: orderId }, include: { items: true } });
      assert.equal(row.requestFingerprint, 'sha256:first-body');
      assert.deepEqual(
        row.items.map(({ quantity }) => quantity),
        [1],
        'the first order is untouched',
      );
    });

    test('reserveStock twice takes stock once; releaseStock twice returns it once', async () => {
      const inventory = createInventoryActivities(db.inventory);
      const before = await stock('SKU-TEE');
      const key = newKey('reserve-stock');
      const input = { key, orderId: `ord_${key}`, items: [{ sku: 'SKU-TEE', quantity: 3 }] };
      const first = await runActivity(inventory.reserveStock, input);
      const second = await runActivity(inventory.reserveStock, input);
      assert.deepEqual(second, first);
      assert.equal(first.totalCents, 7_500);
      assert.equal(await stock('SKU-TEE'), before - 3);

      await runActivity(inventory.releaseStock, { stepKey: key, orderId: input.orderId });
      await runActivity(inventory.releaseStock, { stepKey: key, orderId: input.orderId });
      assert.equal(await stock('SKU-TEE'), before);
    });

    test('two racing executions of one reservation: one effect, one answer', async () => {
      const inventory = createInventoryActivities(db.inventory);
      const before = await stock('SKU-HOODIE');
      const key = newKey('reserve-stock');
      const input = { key, orderId: `ord_${key}`, items: [{ sku: 'SKU-HOODIE', quantity: 2 }] };
      const [a, b] = await Promise.all([
        runActivity(inventory.reserveStock, input),
        runActivity(inventory.reserveStock, input),
      ]);
      assert.deepEqual(a, b);
      assert.equal(await stock('SKU-HOODIE'), before - 2);
      assert.equal(await db.inventory.reservation.count({ where: { key } }), 1);
    });

    test('out of stock is a rejection, remembered, and leaves stock untouched', async () => {
      const inventory = createInventoryActivities(db.inventory);
      const before = await stock('SKU-MUG');
      const key = newKey('reserve-stock');
      const input = {
        key,
        orderId: `ord_${key}`,
        items: [
          { sku: 'SKU-MUG', quantity: 1 },
          { sku: 'SKU-SOLDOUT', quantity: 1 },
        ],
      };
      assert.equal(await rejectionOf(runActivity(inventory.reserveStock, input)), rejectionTypes.outOfStock);
      assert.equal(await stock('SKU-MUG'), before, 'the mug taken first was put back by the rollback');
      await db.inventory.product.update({ where: { sku: 'SKU-SOLDOUT' }, data: { available: 5 } });
      assert.equal(
        await rejectionOf(runActivity(inventory.reserveStock, input)),
        rejectionTypes.outOfStock,
        'the same request gets the same answer',
      );
      await db.inventory.product.update({ where: { sku: 'SKU-SOLDOUT' }, data: { available: 0 } });
    });

    test('a compensation that ran first fences a late step', async () => {
      const inventory = createInventoryActivities(db.inventory);
      const before = await stock('SKU-MUG');
      const key = newKey('reserve-stock');
      const orderId = `ord_${key}`;
      assert.deepEqual(await runActivity(inventory.releaseStock, { stepKey: key, orderId }), { released: false });
      const late = runActivity(inventory.reserveStock, { key, orderId, items: [{ sku: 'SKU-MUG', quantity: 1 }] });
      assert.equal(await rejectionOf(late), rejectionTypes.stepAlreadyCompensated);
      assert.equal(await stock('SKU-MUG'), before);
    });

    test('confirmOrder twice confirms once', async () => {
      const orders = createOrdersActivities(db.orders);
      const key = newKey('create-order');
      const orderId = `ord_${key}`;
      await runActivity(orders.createOrder, {
        key,
        orderId,
        workflowId: `wf-${orderId}`,
        customerId: 'cus_1',
        items: [{ sku: 'SKU-MUG', quantity: 1 }],
      });
      const confirm = {
        key: newKey('confirm-order'),
        orderId,
        totalCents: 1_200,
        paymentId: 'pay_1',
        shipmentId: 'shp_1',
        shippingRate: { source: 'flat-rate' as const, amountCents: 1_299, reason: 'carrier circuit open' },
      };
      assert.deepEqual(await runActivity(orders.confirmOrder, confirm), { confirmed: true });
      assert.deepEqual(await runActivity(orders.confirmOrder, confirm), { confirmed: true });
      const order = await db.orders.order.findUniqueOrThrow({ where: { id: orderId } });
      assert.deepEqual(
        [order.status, order.totalCents, order.paymentId, order.shippingCents, order.shippingRateSource],
        ['CONFIRMED', 1_200, 'pay_1', 1_299, 'flat-rate'],
      );
    });
  });
}
