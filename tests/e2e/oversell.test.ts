import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  createInventoryActivities,
  type ReserveStockInput,
  type StockReservation,
} from '../../src/activities/inventory';
import { applyMigrations, catalogue, createInventoryDb, seedCatalogue, type InventoryDb } from '../../src/db';
import { paymentTokens, undeliverablePostalCode } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import {
  checkInvariants,
  orderRowStatuses,
  paymentRowStatuses,
  reservationRowStatuses,
  shipmentRowStatuses,
} from '../../tooling/reliability/invariants';
import { orderWorkflowId } from '../../src/temporal/names';
import type { OrderSagaState } from '../../src/workflows/definitions';
import { provisionDatabases, startStack, type Stack } from '../support/stack';
import { runActivityQuietly } from '../support/run-activity';
import { providers, skipReason } from '../support/service-databases';

/**
 * No oversell (docs/OVERSELL.md): stock is reserved by a conditional
 * decrement in the same transaction as the reservation row, so concurrent
 * orders for a SKU never take more than its stock, on SQLite and on
 * PostgreSQL. Proved twice: hundreds of reserveStock calls at once against
 * the real database, and a few hundred orders through the whole system over
 * HTTP, some of which fail after reserving and give their stock back.
 */

const hotSku = 'SKU-HOODIE';

/** The code a database error carries: PostgreSQL's SQLSTATE through the driver adapter, else Prisma's or the name. */
function errorCode(error: unknown): string {
  const { cause, code } = (error ?? {}) as { cause?: { originalCode?: unknown }; code?: unknown };
  if (typeof cause?.originalCode === 'string') return cause.originalCode;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : String(error);
}

/** PostgreSQL's deadlock_detected, and Prisma's "write conflict or a deadlock". */
const deadlockCodes = ['40P01', 'P2034'];

/** Attempts per reservation before the test gives up on a transient error (the saga's steps get 8). */
const transientAttempts = 8;

type Outcome = { reserved: StockReservation } | { rejected: string };

/**
 * Runs a reservation as the inventory worker would: a rejection is final, any
 * other error is transient and retried with the same key (so idempotency
 * keeps a retry from reserving twice), with a backoff shorter than the
 * saga's to keep the test quick. Transient errors are counted by code.
 */
async function reserveAsTheWorkerWould(
  reserveStock: (input: ReserveStockInput) => Promise<StockReservation>,
  input: ReserveStockInput,
  transientErrors: Map<string, number>,
): Promise<Outcome> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { reserved: await runActivityQuietly(reserveStock, input) };
    } catch (error) {
      if (error instanceof ApplicationFailure && error.nonRetryable) return { rejected: error.type ?? 'untyped' };
      const code = errorCode(error);
      transientErrors.set(code, (transientErrors.get(code) ?? 0) + 1);
      if (attempt === transientAttempts) throw error;
      await delay(50 * attempt);
    }
  }
}

/**
 * Reads a SKU's stock over and over until stopped, keeping the lowest value
 * seen: a transient negative that a later release hid would show here. (The
 * workers run in this process and their activities wait on the network, so
 * its timer gets its turn.)
 */
function sampleStock(db: InventoryDb, sku: string, intervalMs: number) {
  let stopped = false;
  let lowest = Number.POSITIVE_INFINITY;
  let samples = 0;
  const sampling = (async () => {
    while (!stopped) {
      const product = await db.product.findUniqueOrThrow({ where: { sku } });
      lowest = Math.min(lowest, product.available);
      samples += 1;
      await delay(intervalMs);
    }
  })();
  return {
    async stop(): Promise<{ lowest: number; samples: number }> {
      stopped = true;
      await sampling;
      return { lowest, samples };
    },
  };
}

type InventoryTx = Parameters<Parameters<InventoryDb['$transaction']>[0]>[0];
type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * An inventory client whose transactions pause before their second write to
 * a product row until `parties` transactions have each made their first (or
 * `timeoutMs` passed). That forces the interleaving in which two transactions
 * taking the same two rows in opposite orders deadlock on PostgreSQL: each
 * holds its first row's lock and waits for the other's. When they take the
 * rows in the same order, the second blocks on its first write instead, the
 * first goes on after the timeout, and both finish.
 */
function interleavingProductWrites(db: InventoryDb, parties: number, timeoutMs: number): InventoryDb {
  let firstWrites = 0;
  let openGate = () => {};
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const withGatedWrites = (tx: InventoryTx): InventoryTx => {
    let writes = 0;
    const gated =
      (method: AnyMethod): AnyMethod =>
      async (...args) => {
        writes += 1;
        if (writes === 2) await Promise.race([gate, delay(timeoutMs)]);
        const result = await method(...args);
        if (writes === 1 && ++firstWrites === parties) openGate();
        return result;
      };
    const product = new Proxy(tx.product, {
      get: (target, name) => {
        const value: unknown = Reflect.get(target, name);
        return (name === 'update' || name === 'updateMany') && typeof value === 'function'
          ? gated((value as AnyMethod).bind(target))
          : value;
      },
    });
    return new Proxy(tx, {
      get: (target, name): unknown => (name === 'product' ? product : Reflect.get(target, name)),
    });
  };
  return new Proxy(db, {
    get: (target, name): unknown =>
      name === '$transaction'
        ? <R>(work: (tx: InventoryTx) => Promise<R>) => target.$transaction((tx) => work(withGatedWrites(tx)))
        : Reflect.get(target, name),
  });
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`no oversell on ${provider}`, { skip }, () => {
    describe('reserveStock under hundreds of concurrent calls', () => {
      /**
       * One client per inventory worker process. SQLite: one, as a process
       * holds one client per file (two in one process make each other wait,
       * see src/db/adapters.ts). PostgreSQL: three, so that 30 transactions
       * (three pools of 10) contend for the row at once, not just 10.
       */
      let clients: InventoryDb[] = [];
      /**
       * Reads the stock from outside while the others write, as another
       * process would (on SQLite a reader in WAL mode never waits for the
       * writer, so it does not stall on the workers' lock).
       */
      let observer: InventoryDb | undefined;
      let drop: () => Promise<void> = () => Promise.resolve();

      before(async () => {
        const databases = await provisionDatabases(provider);
        drop = databases.drop;
        await applyMigrations('inventory', databases.urls.inventory);
        clients = Array.from({ length: provider === 'postgres' ? 3 : 1 }, () =>
          createInventoryDb(databases.urls.inventory),
        );
        observer = createInventoryDb(databases.urls.inventory);
        await seedCatalogue(clients[0]!);
      });

      after(async () => {
        await Promise.all([...clients, ...(observer ? [observer] : [])].map((client) => client.$disconnect()));
        await drop();
      });

      const setStock = (sku: string, available: number) =>
        clients[0]!.product.update({ where: { sku }, data: { available } });
      const stockOf = async (sku: string) =>
        (await clients[0]!.product.findUniqueOrThrow({ where: { sku } })).available;
      const reservedQuantity = async (sku: string, keyPrefix: string) =>
        sum(
          (
            await clients[0]!.reservationLine.findMany({
              where: { sku, reservation: { key: { startsWith: keyPrefix } } },
            })
          ).map((line) => line.quantity),
        );

      /**
       * Runs every request at once; as each finishes, the observer reads the
       * watched SKU's stock. (A timer-driven sampler would not do on SQLite:
       * libsql runs statements synchronously, so a burst of queued
       * transactions is one chain of promises and no timer fires until it ends.)
       */
      async function hammer(requests: ReserveStockInput[], watchedSku: string) {
        const transientErrors = new Map<string, number>();
        const activities = clients.map((client) => createInventoryActivities(client));
        let lowestSeen = Number.POSITIVE_INFINITY;
        const started = performance.now();
        // allSettled: a reservation that gives up must not leave the others running into the next test.
        const settled = await Promise.allSettled(
          requests.map(async (input, index) => {
            const reserveStock = activities[index % activities.length]!.reserveStock;
            const outcome = await reserveAsTheWorkerWould(reserveStock, input, transientErrors);
            const { available } = await observer!.product.findUniqueOrThrow({ where: { sku: watchedSku } });
            lowestSeen = Math.min(lowestSeen, available);
            return outcome;
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        const outcomes = settled.map((result, index) => {
          if (result.status === 'fulfilled') return result.value;
          throw new Error(
            `${requests[index]!.key} still failed after ${transientAttempts} attempts: ${errorCode(result.reason)} ` +
              `(transient errors retried: ${JSON.stringify(Object.fromEntries(transientErrors))})`,
            { cause: result.reason },
          );
        });
        const reserved = outcomes.flatMap((outcome) => ('reserved' in outcome ? [outcome.reserved] : []));
        const rejections = outcomes.flatMap((outcome) => ('rejected' in outcome ? [outcome.rejected] : []));
        const deadlocks = sum(deadlockCodes.map((code) => transientErrors.get(code) ?? 0));
        return { reserved, rejections, transientErrors, deadlocks, seconds, lowestSeen };
      }

      test('400 reservations at once for 100 in stock: exactly 100 reserved, stock never below zero', async () => {
        const initial = 100;
        await setStock(hotSku, initial);
        // Quantities 1, 1, 1, 2, 3: 240 requests of 1 alone exceed the stock, so it must end at exactly 0.
        const quantities = [1, 1, 1, 2, 3];
        const requests = Array.from({ length: 400 }, (_, index) => ({
          key: `hammer-${index}:reserve-stock`,
          orderId: `ord_hammer_${index}`,
          items: [{ sku: hotSku, quantity: quantities[index % quantities.length]! }],
        }));
        const run = await hammer(requests, hotSku);

        const reservedUnits = sum(run.reserved.map((reservation) => reservation.lines[0]!.quantity));
        console.log(
          `[${provider}] reserveStock x${requests.length} for ${initial} in stock: ${run.reserved.length} reserved ` +
            `(${reservedUnits} units), ${run.rejections.length} out of stock, stock ${await stockOf(hotSku)} at the end, ` +
            `lowest seen ${run.lowestSeen}, transient errors retried ${JSON.stringify(Object.fromEntries(run.transientErrors))}, ` +
            `${run.seconds.toFixed(1)} s`,
        );
        assert.equal(reservedUnits, initial, 'the reservations took exactly the stock');
        assert.equal(await stockOf(hotSku), 0);
        assert.ok(run.lowestSeen >= 0, `stock was seen at ${run.lowestSeen}`);
        assert.deepEqual(new Set(run.rejections), new Set([rejectionTypes.outOfStock]));
        assert.equal(run.reserved.length + run.rejections.length, requests.length);
        assert.equal(await reservedQuantity(hotSku, 'hammer-'), initial, 'the reservation rows hold exactly the stock');
        assert.equal(
          await clients[0]!.reservation.count({ where: { key: { startsWith: 'hammer-' } } }),
          run.reserved.length,
        );
        assert.equal(run.deadlocks, 0);
      });

      test('200 two-item reservations at once, in opposite SKU orders, the second SKU running short: no deadlock, a rejected one takes nothing', async () => {
        const [plenty, scarce] = [
          { sku: 'SKU-MUG', initial: 60 },
          { sku: 'SKU-TEE', initial: 30 },
        ];
        await setStock(plenty.sku, plenty.initial);
        await setStock(scarce.sku, scarce.initial);
        const requests = Array.from({ length: 200 }, (_, index) => {
          const pair = [
            { sku: plenty.sku, quantity: 1 },
            { sku: scarce.sku, quantity: 1 },
          ];
          return {
            key: `pair-${index}:reserve-stock`,
            orderId: `ord_pair_${index}`,
            items: index % 2 === 0 ? pair : pair.reverse(),
          };
        });
        const run = await hammer(requests, scarce.sku);
        console.log(
          `[${provider}] reserveStock x${requests.length} of ${plenty.sku} (${plenty.initial}) + ${scarce.sku} (${scarce.initial}), ` +
            `in both orders: ${run.reserved.length} reserved, ${run.rejections.length} out of stock, ` +
            `${await stockOf(plenty.sku)} + ${await stockOf(scarce.sku)} left (lowest seen ${run.lowestSeen}), transient errors retried ` +
            `${JSON.stringify(Object.fromEntries(run.transientErrors))}, ${run.seconds.toFixed(1)} s`,
        );
        assert.equal(run.deadlocks, 0, 'rows are taken in one order, so two reservations never wait for each other');
        assert.equal(run.reserved.length, scarce.initial, 'every unit of the scarce SKU was reserved');
        assert.equal(await stockOf(scarce.sku), 0);
        assert.ok(run.lowestSeen >= 0, `stock was seen at ${run.lowestSeen}`);
        // Every rejected reservation was short of the scarce SKU; had it kept the plenty SKU it took first, less would be left.
        assert.equal(await stockOf(plenty.sku), plenty.initial - run.reserved.length);
        assert.deepEqual(new Set(run.rejections), new Set([rejectionTypes.outOfStock]));
        assert.equal(await reservedQuantity(plenty.sku, 'pair-'), run.reserved.length);
        assert.equal(await reservedQuantity(scarce.sku, 'pair-'), run.reserved.length);
      });

      test('two reservations that interleave on two SKUs in opposite orders both succeed at the first attempt', async () => {
        await setStock('SKU-MUG', 10);
        await setStock('SKU-TEE', 10);
        const gated = createInventoryActivities(interleavingProductWrites(clients[0]!, 2, 500));
        const mugThenTee = [
          { sku: 'SKU-MUG', quantity: 1 },
          { sku: 'SKU-TEE', quantity: 1 },
        ];
        const results = await Promise.allSettled([
          runActivityQuietly(gated.reserveStock, {
            key: 'cross-1:reserve-stock',
            orderId: 'ord_cross_1',
            items: mugThenTee,
          }),
          runActivityQuietly(gated.reserveStock, {
            key: 'cross-2:reserve-stock',
            orderId: 'ord_cross_2',
            items: [...mugThenTee].reverse(),
          }),
        ]);
        for (const result of results) {
          assert.equal(result.status, 'fulfilled', result.status === 'rejected' ? errorCode(result.reason) : '');
        }
        assert.deepEqual([await stockOf('SKU-MUG'), await stockOf('SKU-TEE')], [8, 8]);
      });

      test('a release and a reservation that interleave on two SKUs in opposite orders both succeed at the first attempt', async () => {
        await setStock('SKU-MUG', 10);
        await setStock('SKU-TEE', 10);
        const plain = createInventoryActivities(clients[0]!);
        const teeThenMug = [
          { sku: 'SKU-TEE', quantity: 1 },
          { sku: 'SKU-MUG', quantity: 1 },
        ];
        const held = { key: 'held-1:reserve-stock', orderId: 'ord_held_1', items: teeThenMug };
        await runActivityQuietly(plain.reserveStock, held);
        const gated = createInventoryActivities(interleavingProductWrites(clients[0]!, 2, 500));
        const results = await Promise.allSettled([
          runActivityQuietly(gated.releaseStock, { stepKey: held.key, orderId: held.orderId }),
          runActivityQuietly(gated.reserveStock, {
            key: 'held-2:reserve-stock',
            orderId: 'ord_held_2',
            items: [...teeThenMug].reverse(),
          }),
        ]);
        for (const result of results) {
          assert.equal(result.status, 'fulfilled', result.status === 'rejected' ? errorCode(result.reason) : '');
        }
        assert.deepEqual([await stockOf('SKU-MUG'), await stockOf('SKU-TEE')], [9, 9]);
      });
    });

    describe('orders over HTTP through the whole system', () => {
      let stack: Stack;

      before(async () => {
        stack = await startStack(provider);
      });

      after(async () => {
        await stack?.stop();
      });

      type Kind = 'approved' | 'declined' | 'undeliverable';
      const expectedFailures: Record<Kind, string[]> = {
        approved: [rejectionTypes.outOfStock],
        // These fail after reserving: their stock is released, and sold again to later orders.
        declined: [rejectionTypes.paymentDeclined, rejectionTypes.outOfStock],
        undeliverable: [rejectionTypes.addressUndeliverable, rejectionTypes.outOfStock],
      };

      async function finalStateOf(orderId: string): Promise<OrderSagaState> {
        const handle = stack.temporal.client.workflow.getHandle(orderWorkflowId(orderId));
        try {
          return (await handle.result()) as OrderSagaState;
        } catch (error) {
          // A failed or cancelled saga leaves its state in its failure's details.
          if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure) {
            const [state] = error.cause.details ?? [];
            if (state) return state as OrderSagaState;
          }
          throw error;
        }
      }

      test('200 orders for 40 in stock, some failing after they reserved: never more sold than stocked, every failure compensated', async () => {
        const initial = 40;
        const orderCount = 200;
        /** Orders arrive over ~8 s, so stock released by failed orders meets orders still arriving. */
        const arrivalSpacingMs = 40;
        const settleDeadlineMs = 120_000;

        await stack.db.inventory.product.update({ where: { sku: hotSku }, data: { available: initial } });
        const initialStock = {
          ...Object.fromEntries(catalogue.map((product) => [product.sku, product.available])),
          [hotSku]: initial,
        };
        const plan = Array.from({ length: orderCount }, (_, index) => {
          const kind: Kind = index % 5 === 4 ? 'declined' : index % 10 === 7 ? 'undeliverable' : 'approved';
          const hotQuantity = index % 7 === 0 ? 2 : 1;
          const items =
            index % 6 === 0
              ? [
                  { sku: 'SKU-MUG', quantity: 1 },
                  { sku: hotSku, quantity: hotQuantity },
                ]
              : [{ sku: hotSku, quantity: hotQuantity }];
          return { kind, items, hotQuantity };
        });

        const started = performance.now();
        const sampler = sampleStock(stack.db.inventory, hotSku, 100);
        const placed = await Promise.all(
          plan.map(async (order, index) => {
            await delay(index * arrivalSpacingMs);
            const response = await fetch(`${stack.baseUrl}/orders`, {
              method: 'POST',
              // A burst of 200: each answered once its run started, not after its acceptance.
              headers: {
                'content-type': 'application/json',
                'idempotency-key': randomUUID(),
                prefer: 'respond-async',
              },
              body: JSON.stringify({
                customerId: `cus_oversell_${index}`,
                items: order.items,
                payment: { token: order.kind === 'declined' ? paymentTokens.declined : paymentTokens.approved },
                shippingAddress: {
                  recipient: 'Ada Lovelace',
                  line1: '12 Analytical Row',
                  city: 'London',
                  postalCode: order.kind === 'undeliverable' ? undeliverablePostalCode : 'N1 9GU',
                  country: 'GB',
                },
              }),
            });
            assert.equal(response.status, 202);
            const { orderId } = (await response.json()) as { orderId: string };
            return { ...order, orderId };
          }),
        );
        const placedSeconds = (performance.now() - started) / 1000;

        const ids = placed.map((order) => order.orderId);
        const finalStatuses = [orderRowStatuses.confirmed, orderRowStatuses.cancelled];
        const deadline = Date.now() + settleDeadlineMs;
        const countSettled = () =>
          stack.db.orders.order.count({ where: { id: { in: ids }, status: { in: finalStatuses } } });
        for (let settled = await countSettled(); settled < ids.length; settled = await countSettled()) {
          if (Date.now() > deadline) {
            await sampler.stop();
            assert.fail(
              `${ids.length - settled} of ${ids.length} orders were not final after ${settleDeadlineMs / 1000} s`,
            );
          }
          await delay(250);
        }
        const settledSeconds = (performance.now() - started) / 1000;
        const { lowest, samples } = await sampler.stop();

        const states = new Map<string, OrderSagaState>();
        for (let next = 0; next < ids.length;) {
          const batch = ids.slice(next, (next += 10));
          for (const [index, state] of (await Promise.all(batch.map(finalStateOf))).entries()) {
            states.set(batch[index]!, state);
          }
        }
        const [orders, reservations, payments, shipments, product] = await Promise.all([
          stack.db.orders.order.findMany({ where: { id: { in: ids } }, include: { items: true } }),
          stack.db.inventory.reservation.findMany({ where: { orderId: { in: ids } }, include: { lines: true } }),
          stack.db.payments.payment.findMany({ where: { orderId: { in: ids } } }),
          stack.db.shipping.shipment.findMany({ where: { orderId: { in: ids } } }),
          stack.db.inventory.product.findUniqueOrThrow({ where: { sku: hotSku } }),
        ]);
        const rowsOf = <R extends { orderId: string }>(rows: R[], orderId: string) =>
          rows.filter((row) => row.orderId === orderId);
        const orderRows = new Map(orders.map((order) => [order.id, order]));

        const outcomes = { confirmed: 0, outOfStock: 0, declined: 0, undeliverable: 0 };
        let soldUnits = 0;
        for (const order of placed) {
          const state = states.get(order.orderId)!;
          const row = orderRows.get(order.orderId);
          const ofOrder = {
            reservations: rowsOf(reservations, order.orderId),
            payments: rowsOf(payments, order.orderId),
            shipments: rowsOf(shipments, order.orderId),
          };
          const label = `order ${order.orderId} (${order.kind})`;
          if (state.status === 'confirmed') {
            assert.equal(order.kind, 'approved', `${label} was confirmed`);
            assert.equal(row?.status, orderRowStatuses.confirmed, label);
            assert.deepEqual(
              ofOrder.reservations.map((reservation) => reservation.status),
              [reservationRowStatuses.committed],
              label,
            );
            outcomes.confirmed += 1;
            soldUnits += row.items.find((item) => item.sku === hotSku)?.quantity ?? 0;
            continue;
          }
          assert.equal(state.status, 'failed', label);
          assert.ok(
            expectedFailures[order.kind].includes(state.failure?.type ?? ''),
            `${label}: ${state.failure?.type}`,
          );
          assert.equal(row?.status, orderRowStatuses.cancelled, label);
          // Compensated in full: its reservation released (none if it was out of stock), nothing charged or shipped.
          assert.ok(
            ofOrder.reservations.every((reservation) => reservation.status === reservationRowStatuses.released),
            `${label} holds ${ofOrder.reservations.map((reservation) => reservation.status).join(', ')}`,
          );
          if (state.failure?.type === rejectionTypes.outOfStock) {
            assert.deepEqual(ofOrder.reservations, [], `${label} was out of stock but reserved`);
          } else {
            assert.equal(ofOrder.reservations.length, 1, `${label} failed after reserving`);
          }
          assert.ok(
            ofOrder.payments.every(
              (payment) =>
                payment.status === paymentRowStatuses.declined || payment.status === paymentRowStatuses.refunded,
            ),
            `${label} has payments ${ofOrder.payments.map((payment) => payment.status).join(', ')}`,
          );
          assert.ok(
            ofOrder.shipments.every((shipment) => shipment.status === shipmentRowStatuses.cancelled),
            `${label} has a live shipment`,
          );
          if (state.failure?.type === rejectionTypes.outOfStock) outcomes.outOfStock += 1;
          else if (state.failure?.type === rejectionTypes.paymentDeclined) outcomes.declined += 1;
          else outcomes.undeliverable += 1;
        }

        const hotLines = (status?: string) =>
          sum(
            reservations
              .filter((reservation) => status === undefined || reservation.status === status)
              .flatMap((reservation) => reservation.lines)
              .filter((line) => line.sku === hotSku)
              .map((line) => line.quantity),
          );
        const releasedUnits = hotLines(reservationRowStatuses.released);
        const report = await checkInvariants({
          db: stack.db,
          client: stack.temporal.client,
          gateway: stack.gatewayClient,
          initialStock,
        });
        console.log(
          `[${provider}] ${orderCount} orders over HTTP for ${initial} ${hotSku}: ${outcomes.confirmed} confirmed ` +
            `(${soldUnits} units), ${outcomes.outOfStock} out of stock, ${outcomes.declined} declined and ` +
            `${outcomes.undeliverable} undeliverable after reserving (${releasedUnits} units released and put back ` +
            `on sale), stock ${product.available} at the end, lowest of ${samples} samples ${lowest}; placed in ` +
            `${placedSeconds.toFixed(1)} s, all final after ${settledSeconds.toFixed(1)} s`,
        );

        assert.ok(soldUnits <= initial, `sold ${soldUnits} of ${initial}`);
        assert.equal(soldUnits, initial - product.available, 'what was sold is exactly what left the shelf');
        assert.equal(hotLines(reservationRowStatuses.committed), soldUnits);
        assert.equal(hotLines(reservationRowStatuses.reserved), 0, 'nothing is left reserved');
        assert.ok(product.available >= 0 && lowest >= 0, `stock went down to ${Math.min(product.available, lowest)}`);
        assert.ok(outcomes.outOfStock > 0, 'demand exceeded the stock');
        assert.ok(releasedUnits > 0, 'some orders failed after reserving and released their stock');
        assert.ok(
          hotLines() > initial,
          `released stock was sold again: ${hotLines()} units reserved over the run, ${initial} in stock`,
        );
        assert.ok(report.ok, JSON.stringify(report.violations, null, 2));
      });
    });
  });
}
