import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createInventoryActivities } from '../../src/activities/inventory';
import { type InventoryDb } from '../../src/db';
import { rejectionTypes } from '../../src/domain/rejections';
import { rejectionOf, runActivity } from '../support/run-activity';
import { providers, skipReason, migratedServiceDatabase } from '../support/service-databases';

/**
 * The inventory's commitReservation on real databases: it takes effect once,
 * keeps the stock out of `available` (so available + reserved + committed
 * still adds up to the stock there was), and never commits a reservation
 * whose stock was released.
 */

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`commitReservation on ${provider}`, { skip }, () => {
    let db: InventoryDb;
    let close: () => Promise<void>;
    let sequence = 0;

    before(async () => {
      ({ db, close } = await migratedServiceDatabase(provider, 'inventory'));
    });

    after(async () => {
      await close?.();
    });

    const stock = async (sku: string) => (await db.product.findUniqueOrThrow({ where: { sku } })).available;
    const statusOf = async (stepKey: string) =>
      (await db.reservation.findUniqueOrThrow({ where: { key: stepKey } })).status;

    /** A reservation of `quantity` of `sku`, as the saga's reserve-stock step makes it. */
    async function reserved(sku: string, quantity: number) {
      const inventory = createInventoryActivities(db);
      const workflowId = `order-commit-${provider}-${++sequence}`;
      const stepKey = `${workflowId}:reserve-stock`;
      const orderId = `ord_${workflowId}`;
      await runActivity(inventory.reserveStock, { key: stepKey, orderId, items: [{ sku, quantity }] });
      const commit = { key: `${workflowId}:confirm-order:commit-reservation`, stepKey, orderId };
      return { inventory, stepKey, orderId, commit };
    }

    test('committed twice: one commit, one answer, and the stock stays out of available', async () => {
      const initial = await stock('SKU-TEE');
      const { inventory, stepKey, commit } = await reserved('SKU-TEE', 3);
      assert.deepEqual(await runActivity(inventory.commitReservation, commit), { committed: true });
      assert.deepEqual(await runActivity(inventory.commitReservation, commit), { committed: true });
      assert.equal(await statusOf(stepKey), 'COMMITTED');
      assert.equal(await stock('SKU-TEE'), initial - 3);
      const committedLines = await db.reservationLine.findMany({
        where: { sku: 'SKU-TEE', reservation: { key: stepKey, status: 'COMMITTED' } },
      });
      assert.equal(initial, (await stock('SKU-TEE')) + committedLines.reduce((sum, line) => sum + line.quantity, 0));
      assert.equal(await db.idempotencyRecord.count({ where: { key: commit.key } }), 1);
    });

    test('a released reservation is refused, for good, and stays released', async () => {
      const initial = await stock('SKU-MUG');
      const { inventory, stepKey, orderId, commit } = await reserved('SKU-MUG', 2);
      assert.deepEqual(await runActivity(inventory.releaseStock, { stepKey, orderId }), { released: true });
      for (let attempt = 0; attempt < 2; attempt += 1) {
        assert.equal(
          await rejectionOf(runActivity(inventory.commitReservation, commit)),
          rejectionTypes.stepAlreadyCompensated,
        );
      }
      assert.equal(await statusOf(stepKey), 'RELEASED');
      assert.equal(await stock('SKU-MUG'), initial);
      assert.ok(await db.idempotencyRecord.findUnique({ where: { key: commit.key } }), 'the refusal is remembered');
    });

    test('a committed reservation is released when the order fails at its confirmation', async () => {
      const initial = await stock('SKU-HOODIE');
      const { inventory, stepKey, orderId, commit } = await reserved('SKU-HOODIE', 2);
      await runActivity(inventory.commitReservation, commit);
      assert.deepEqual(await runActivity(inventory.releaseStock, { stepKey, orderId }), { released: true });
      assert.equal(await statusOf(stepKey), 'RELEASED');
      assert.equal(await stock('SKU-HOODIE'), initial);
      await runActivity(inventory.commitReservation, commit);
      assert.equal(await statusOf(stepKey), 'RELEASED', 'a late retry of the commit changes nothing');
    });

    test('a commit racing with the release: whichever wins, the stock ends released', async () => {
      const initial = await stock('SKU-MUG');
      const { inventory, stepKey, orderId, commit } = await reserved('SKU-MUG', 1);
      const [commitOutcome, releaseOutcome] = await Promise.allSettled([
        runActivity(inventory.commitReservation, commit),
        runActivity(inventory.releaseStock, { stepKey, orderId }),
      ]);
      assert.equal(releaseOutcome.status, 'fulfilled', String((releaseOutcome as PromiseRejectedResult).reason));
      if (commitOutcome.status === 'rejected') {
        const reason: unknown = commitOutcome.reason;
        assert.ok(reason instanceof ApplicationFailure, String(reason));
        assert.equal(reason.type, rejectionTypes.stepAlreadyCompensated, 'the release won: the commit is refused');
      }
      assert.equal(await statusOf(stepKey), 'RELEASED');
      assert.equal(await stock('SKU-MUG'), initial);
    });
  });
}
