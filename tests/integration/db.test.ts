/**
 * Database-per-service plumbing: migrations, seed, clients, errors.
 *
 *   node --import tsx --test tests/integration/db.test.ts
 *
 * SQLite always runs (temporary files). PostgreSQL runs when
 * TEST_POSTGRES_URL is a URL of a role that may CREATE DATABASE, e.g.
 * postgresql://postgres:postgres@127.0.0.1:5432/postgres: four fresh
 * databases are created, migrated, checked and dropped.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { createClient } from '@libsql/client';
import pg from 'pg';
import {
  applyAllMigrations,
  applyMigrations,
  catalogue,
  createPaymentsDb,
  pingDatabase,
  PrismaCliError,
  seedCatalogue,
  type AnyServiceDb,
  type InventoryDb,
  type OrdersDb,
  type ServiceDatabases,
  openServiceDatabases,
} from '../../src/db';
import { serviceNames, type ServiceName } from '../../src/temporal/names';

type Urls = Record<ServiceName, string>;

function isUniqueViolation(error: unknown): boolean {
  const { code, name } = error as { code?: unknown; name?: unknown };
  return name === 'PrismaClientKnownRequestError' && code === 'P2002';
}

function openAll(urls: Urls): ServiceDatabases {
  return openServiceDatabases(urls);
}

/** The same checks for either provider, as subtests of `t`. */
async function checkServices(t: TestContext, urls: Urls, provider: string): Promise<void> {
  await t.test('migrate all four services', async () => {
    const outcomes = await applyAllMigrations(urls);
    for (const outcome of outcomes) {
      assert.equal(outcome.provider, provider);
      assert.ok(outcome.applied.length > 0, `${outcome.service}: applied ${outcome.applied.join(', ')}`);
      assert.ok(outcome.applied.every((name) => /^\d{14}_\w+$/.test(name)));
    }
  });

  await t.test('migrating again is a no-op', async () => {
    const outcomes = await applyAllMigrations(urls);
    assert.deepEqual(
      outcomes.map((outcome) => [outcome.service, outcome.applied]),
      serviceNames.map((service) => [service, []]),
    );
  });

  const dbs = openAll(urls);
  t.after(() => Promise.all(Object.values(dbs).map((db: AnyServiceDb) => db.$disconnect())));

  await t.test('every database answers the readiness ping', async () => {
    await Promise.all(Object.values(dbs).map((db: AnyServiceDb) => pingDatabase(db)));
  });

  await t.test(
    'each service applied the shared outbox migration under the name and checksum of its old copy',
    async () => {
      // What every service recorded while it carried its own copy (before prisma/shared/outbox): databases
      // migrated back then must find the one shared migration applied, not a changed or a new one.
      const recorded: Record<string, string> = {
        sqlite: '13415ccb8b21c56b4cda64c7b7bc9822a9bf362a4e4f76a2f8e8a0127985eed8',
        postgres: '285fce14727f64da79e7a2a0bcec6f45078b3c1143e52ec6b2a9d648285b69a8',
      };
      for (const service of serviceNames) {
        const rows = await dbs[service].$queryRawUnsafe<{ migration_name: string; checksum: string }[]>(
          'SELECT migration_name, checksum FROM _prisma_migrations WHERE migration_name LIKE $1',
          '%_outbox',
        );
        assert.deepEqual(rows, [{ migration_name: '20261122012441_outbox', checksum: recorded[provider] }], service);
      }
    },
  );

  await t.test('seedCatalogue creates the catalogue and never resets stock', async () => {
    const inventory: InventoryDb = dbs.inventory;
    await seedCatalogue(inventory);
    const seeded = await inventory.product.findMany({ orderBy: { sku: 'asc' } });
    assert.deepEqual(
      seeded,
      [...catalogue].sort((a, b) => (a.sku < b.sku ? -1 : 1)),
    );
    await inventory.product.update({ where: { sku: 'SKU-MUG' }, data: { available: 7, name: 'renamed' } });
    await seedCatalogue(inventory);
    const mug = await inventory.product.findUniqueOrThrow({ where: { sku: 'SKU-MUG' } });
    assert.deepEqual(mug, { sku: 'SKU-MUG', name: 'Temporal mug', priceCents: 1200, available: 7 });
    assert.equal(await inventory.product.count(), 5);
    const soldOut = await inventory.product.findUniqueOrThrow({ where: { sku: 'SKU-SOLDOUT' } });
    assert.equal(soldOut.available, 0);
  });

  await t.test('orders: write and read an order with items; deleting it cascades', async () => {
    const orders: OrdersDb = dbs.orders;
    const id = `ord_${randomUUID()}`;
    await orders.order.create({
      data: {
        id,
        workflowId: `order-${id}`,
        customerId: 'cus_1',
        status: 'PENDING',
        items: {
          create: [
            { sku: 'SKU-MUG', quantity: 2 },
            { sku: 'SKU-TEE', quantity: 1 },
          ],
        },
      },
    });
    const read = await orders.order.findUniqueOrThrow({
      where: { id },
      include: { items: { orderBy: { sku: 'asc' } } },
    });
    assert.equal(read.currency, 'USD');
    assert.ok(read.createdAt instanceof Date);
    assert.deepEqual(
      read.items.map((item) => [item.sku, item.quantity]),
      [
        ['SKU-MUG', 2],
        ['SKU-TEE', 1],
      ],
    );
    await orders.order.delete({ where: { id } });
    assert.equal(await orders.orderItem.count({ where: { orderId: id } }), 0, 'foreign key cascade');
  });

  await t.test('inventory: a conditional stock decrement and a reservation with lines', async () => {
    const inventory: InventoryDb = dbs.inventory;
    const reservationId = `res_${randomUUID()}`;
    await inventory.$transaction(async (tx) => {
      const { count } = await tx.product.updateMany({
        where: { sku: 'SKU-HOODIE', available: { gte: 2 } },
        data: { available: { decrement: 2 } },
      });
      assert.equal(count, 1);
      await tx.reservation.create({
        data: {
          id: reservationId,
          key: `reserve-${reservationId}`,
          orderId: 'ord_1',
          status: 'RESERVED',
          lines: { create: [{ sku: 'SKU-HOODIE', quantity: 2, unitPriceCents: 5900 }] },
        },
      });
    });
    const { count } = await inventory.product.updateMany({
      where: { sku: 'SKU-SOLDOUT', available: { gte: 1 } },
      data: { available: { decrement: 1 } },
    });
    assert.equal(count, 0, 'sold out');
    const reservation = await inventory.reservation.findUniqueOrThrow({
      where: { key: `reserve-${reservationId}` },
      include: { lines: true },
    });
    assert.equal(reservation.lines.length, 1);
    assert.equal((await inventory.product.findUniqueOrThrow({ where: { sku: 'SKU-HOODIE' } })).available, 498);
  });

  await t.test('each service: write and read an idempotency record', async () => {
    for (const service of serviceNames) {
      const db: AnyServiceDb = dbs[service];
      const key = `${service}:${randomUUID()}`;
      // Each service's client has its own (identical) IdempotencyRecord delegate.
      const records = db.idempotencyRecord as OrdersDb['idempotencyRecord'];
      await records.create({ data: { key, response: JSON.stringify({ ok: true }) } });
      const read = await records.findUniqueOrThrow({ where: { key } });
      assert.deepEqual(JSON.parse(read.response), { ok: true });
    }
    assert.equal(await dbs.payments.payment.count(), 0);
    assert.equal(await dbs.shipping.shipment.count(), 0);
  });

  await t.test('a unique violation inside an interactive transaction is P2002 and rolls back', async () => {
    for (const service of serviceNames) {
      const db = dbs[service] as OrdersDb;
      const key = `${service}:dup:${randomUUID()}`;
      const sideEffect = `${key}:side`;
      await db.idempotencyRecord.create({ data: { key, response: 'first' } });
      await assert.rejects(
        db.$transaction(async (tx) => {
          await tx.idempotencyRecord.create({ data: { key: sideEffect, response: 'rolled back' } });
          await tx.idempotencyRecord.create({ data: { key, response: 'second' } });
        }),
        (error: unknown) => {
          assert.ok(isUniqueViolation(error), `${service}: expected P2002, got ${String(error)}`);
          return true;
        },
      );
      assert.equal(await db.idempotencyRecord.findUnique({ where: { key: sideEffect } }), null, `${service}: rollback`);
      assert.equal((await db.idempotencyRecord.findUniqueOrThrow({ where: { key } })).response, 'first');
    }
  });

  await t.test('concurrent interactive transactions on one client all complete', async () => {
    const orders = dbs.orders;
    const n = 25;
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        orders.$transaction(async (tx) => {
          const key = `concurrent:${i}:${randomUUID()}`;
          if (await tx.idempotencyRecord.findUnique({ where: { key } })) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
          await tx.idempotencyRecord.create({ data: { key, response: String(i) } });
        }),
      ),
    );
    const failures = results.filter((result) => result.status === 'rejected');
    assert.equal(failures.length, 0, String(failures[0]?.reason));
  });
}

void test('SQLite (temporary files)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'db-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const urls = Object.fromEntries(
    serviceNames.map((service) => [service, `file:${path.join(dir, 'nested', `${service}.db`)}`]),
  ) as Urls;

  await checkServices(t, urls, 'sqlite');

  await t.test('a failed migration rejects with Prisma’s own error output', async () => {
    const notADatabase = path.join(dir, 'not-a-database.db');
    writeFileSync(notADatabase, 'this is not an SQLite file, it is long enough to have a header '.repeat(20));
    await assert.rejects(applyMigrations('orders', `file:${notADatabase}`), (error: unknown) => {
      assert.ok(error instanceof PrismaCliError);
      assert.match(error.message, /prisma migrate deploy \[orders\/sqlite/);
      assert.match(error.message, /not a database/i);
      return true;
    });
  });

  await t.test('after another connection held the write lock, no failure leaves a lock behind', async () => {
    // The sequence the chaos command's database outage produced: writers fail
    // with SQLITE_BUSY while the lock is held; the next transaction must commit,
    // and the database must stay writable for everyone afterwards.
    const payments = createPaymentsDb(urls.payments, { sqlite: { busyTimeoutMs: 100 } });
    const outsider = createClient({ url: urls.payments });
    t.after(async () => {
      outsider.close();
      await payments.$disconnect();
    });
    const record = (key: string) => ({ data: { key, response: 'ok' } });

    await outsider.execute('BEGIN EXCLUSIVE');
    await assert.rejects(payments.$transaction((tx) => tx.idempotencyRecord.create(record('during-lock-tx'))));
    await assert.rejects(payments.idempotencyRecord.create(record('during-lock-plain')));
    await outsider.execute('ROLLBACK');

    await payments.$transaction((tx) => tx.idempotencyRecord.create(record('after-lock-tx')));
    await payments.idempotencyRecord.create(record('after-lock-plain'));
    await outsider.execute('BEGIN IMMEDIATE'); // would fail with SQLITE_BUSY if a connection had kept the lock
    await outsider.execute('ROLLBACK');
    const keys = await payments.idempotencyRecord.findMany({ where: { key: { contains: '-lock-' } } });
    assert.deepEqual(keys.map((row) => row.key).sort(), ['after-lock-plain', 'after-lock-tx']);
  });

  await t.test('two services on one database are refused', async () => {
    await assert.rejects(applyAllMigrations({ ...urls, payments: urls.orders }), /point at the same database/);
  });
});

void test('PostgreSQL (TEST_POSTGRES_URL)', async (t) => {
  const adminUrl = process.env.TEST_POSTGRES_URL?.trim();
  if (!adminUrl) {
    t.skip(
      'TEST_POSTGRES_URL is not set (a URL of a role that may CREATE DATABASE, e.g. ' +
        'postgresql://postgres:postgres@127.0.0.1:5432/postgres)',
    );
    return;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const suffix = `${process.pid}_${randomUUID().slice(0, 8)}`;
  const names = Object.fromEntries(serviceNames.map((service) => [service, `saga_test_${service}_${suffix}`])) as Urls;
  t.after(async () => {
    for (const name of Object.values(names)) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });
  for (const name of Object.values(names)) await admin.query(`CREATE DATABASE "${name}"`);
  const urls = Object.fromEntries(
    serviceNames.map((service) => {
      const url = new URL(adminUrl);
      url.pathname = `/${names[service]}`;
      return [service, url.toString()];
    }),
  ) as Urls;

  await checkServices(t, urls, 'postgres');
});
