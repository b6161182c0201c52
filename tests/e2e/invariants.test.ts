import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createInventoryActivities } from '../../src/activities/inventory';
import { createOrdersActivities } from '../../src/activities/orders';
import { createPaymentsActivities } from '../../src/activities/payments';
import { createShippingActivities } from '../../src/activities/shipping';
import { projectRoot } from '../../src/config';
import {
  applyMigrations,
  catalogue,
  seedCatalogue,
  type ServiceDatabases,
  openServiceDatabases,
  closeServiceDatabases,
} from '../../src/db';
import { sqliteFilePath } from '../../src/db/url';
import {
  blockedCustomerId,
  paymentTokens,
  soldOutSku,
  undeliverablePostalCode,
} from '../../src/domain/failure-triggers';
import type { OrderItem } from '../../src/domain/order';
import { checkInvariants, invariants, type InvariantReport } from '../../tooling/reliability/invariants';
import { orderWorkflowId, serviceNames, type ServiceName } from '../../src/temporal/names';
import { orderIdFor } from '../../src/temporal/order-ids';
import { finalStatuses, type OrderSagaState, type OrderStatus, type OrderStep } from '../../src/workflows/definitions';
import {
  defaultGatewayClientOptions,
  createGatewayClient,
  type GatewayClient,
} from '../../src/partners/gateway-client';
import {
  createCarrierClient,
  defaultCarrierClientOptions,
  type CarrierClient,
} from '../../src/partners/carrier-client';
import { launchCarrier, launchGateway, type CarrierProcess, type GatewayProcess } from '../../simulators/launch';
import { freePort } from '../../src/net/ports';
import { provisionDatabases, startStack, type Stack } from '../support/stack';
import { runActivity } from '../support/run-activity';
import { springfieldAddress as address } from '../support/sample-orders';

/**
 * The invariant checker on real SQLite databases whose rows were written by
 * the real activities: it passes on what sagas leave, and reports each
 * invariant broken by hand, exactly. Then on the running system, with the
 * Temporal client, for the checks that need the workflows.
 */

const mugs: OrderItem[] = [{ sku: 'SKU-MUG', quantity: 2 }];

async function openDatabases(urls: Record<ServiceName, string>): Promise<ServiceDatabases> {
  await Promise.all(serviceNames.map((service) => applyMigrations(service, urls[service])));
  const db: ServiceDatabases = openServiceDatabases(urls);
  await seedCatalogue(db.inventory);
  return db;
}

const closeDatabases = (db: ServiceDatabases | undefined) => (db ? closeServiceDatabases(db) : undefined);

interface SagaOptions {
  items?: OrderItem[];
  customerId?: string;
  token?: string;
  postalCode?: string;
  /** Stop before confirm-order as if its retries ran out: every step so far is compensated. */
  failBeforeConfirm?: boolean;
}

/**
 * Runs an order's steps with the real activities, in the saga's order and
 * with its keys, and on a rejection runs the pushed compensations in reverse,
 * as the workflow does. A compensation that fails is taken as resolved by an
 * operator (the workflow would wait for one). Returns the order id.
 */
async function runSaga(db: ServiceDatabases, options: SagaOptions = {}): Promise<string> {
  const orders = createOrdersActivities(db.orders);
  const inventory = createInventoryActivities(db.inventory);
  const payments = createPaymentsActivities(db.payments, unitGateway.client);
  const shipping = createShippingActivities(db.shipping, unitCarrier.client);
  const orderId = orderIdFor('cus_invariants', randomUUID());
  const workflowId = orderWorkflowId(orderId);
  const keyOf = (step: OrderStep) => `${workflowId}:${step}`;
  const items = options.items ?? mugs;
  const stack: (() => Promise<unknown>)[] = [];
  try {
    await runActivity(orders.createOrder, {
      key: keyOf('create-order'),
      orderId,
      workflowId,
      customerId: options.customerId ?? 'cus_invariants',
      items,
    });
    stack.push(() =>
      runActivity(orders.cancelOrder, { stepKey: keyOf('create-order'), orderId, reason: 'compensated' }),
    );
    const reservation = await runActivity(inventory.reserveStock, { key: keyOf('reserve-stock'), orderId, items });
    stack.push(() => runActivity(inventory.releaseStock, { stepKey: keyOf('reserve-stock'), orderId }));
    const { paymentId } = await runActivity(payments.chargePayment, {
      key: keyOf('charge-payment'),
      orderId,
      amountCents: reservation.totalCents,
      paymentToken: options.token ?? paymentTokens.approved,
    });
    stack.push(() => runActivity(payments.refundPayment, { stepKey: keyOf('charge-payment'), orderId }));
    const shipment = await runActivity(shipping.createShipment, {
      key: keyOf('create-shipment'),
      orderId,
      address: { ...address, postalCode: options.postalCode ?? address.postalCode },
      itemCount: items.reduce((count, item) => count + item.quantity, 0),
    });
    stack.push(() => runActivity(shipping.cancelShipment, { stepKey: keyOf('create-shipment'), orderId }));
    if (options.failBeforeConfirm) throw new Error('confirm-order ran out of retries');
    await runActivity(orders.confirmOrder, {
      key: keyOf('confirm-order'),
      orderId,
      totalCents: reservation.totalCents,
      paymentId,
      shipmentId: shipment.shipmentId,
      shippingRate: shipment.rate,
    });
  } catch {
    for (const compensate of stack.reverse()) await compensate().catch(() => undefined);
  }
  return orderId;
}

/** The violations as [invariant, order id or SKU], for exact comparison. */
const subjects = (report: InvariantReport) =>
  report.violations.map((violation) => [violation.invariant, violation.orderId ?? violation.sku]);

function assertClean(report: InvariantReport): void {
  assert.deepEqual(report.violations, [], 'no violation');
  assert.equal(report.ok, true);
}

let unitUrls: Record<ServiceName, string>;
let unitDb: ServiceDatabases;
let dropUnit: (() => Promise<void>) | undefined;
let unitGateway: { process: GatewayProcess; client: GatewayClient; dir: string };
let unitCarrier: { process: CarrierProcess; client: CarrierClient };

before(async () => {
  const databases = await provisionDatabases('sqlite');
  unitUrls = databases.urls;
  dropUnit = databases.drop;
  unitDb = await openDatabases(unitUrls);
  const dir = mkdtempSync(path.join(tmpdir(), 'invariants-gateway-'));
  const gateway = await launchGateway({ port: await freePort(), databaseUrl: `file:${path.join(dir, 'gateway.db')}` });
  unitGateway = {
    process: gateway,
    client: createGatewayClient({ ...defaultGatewayClientOptions, baseUrl: gateway.url }),
    dir,
  };
  const carrier = await launchCarrier({ port: await freePort() });
  unitCarrier = {
    process: carrier,
    client: createCarrierClient({ ...defaultCarrierClientOptions, baseUrl: carrier.url }),
  };
});

after(async () => {
  await closeDatabases(unitDb);
  await dropUnit?.();
  await unitGateway?.process.stop();
  await unitCarrier?.process.stop();
  if (unitGateway) rmSync(unitGateway.dir, { recursive: true, force: true });
});

describe('the invariant checker on states the activities leave', () => {
  const ids = { confirmed: '', undeliverable: '', unconfirmed: '', outOfStock: '' };

  before(async () => {
    ids.confirmed = await runSaga(unitDb);
    ids.undeliverable = await runSaga(unitDb, { postalCode: undeliverablePostalCode });
    ids.unconfirmed = await runSaga(unitDb, { items: [{ sku: 'SKU-TEE', quantity: 1 }], failBeforeConfirm: true });
    ids.outOfStock = await runSaga(unitDb, { items: [{ sku: soldOutSku, quantity: 1 }] });
    await runSaga(unitDb, { customerId: blockedCustomerId });
  });

  test('a confirmed order and compensated ones: every invariant holds, with exact figures', async () => {
    const report = await checkInvariants({ db: unitDb, gateway: unitGateway.client });
    assertClean(report);
    const { figures } = report;
    assert.deepEqual(figures.gateway, {
      ordersChecked: 4,
      succeededCharges: 3,
      declinedCharges: 0,
      ordersChargedTwice: 0,
      keptCents: figures.money.confirmedCents,
    });
    assert.deepEqual(figures.orders, { CONFIRMED: 1, CANCELLED: 3 }, 'the blocked customer left no order row');
    assert.deepEqual(figures.reservations, { RESERVED: 1, RELEASED: 2 });
    assert.deepEqual(figures.payments, { CHARGED: 1, REFUNDED: 2 });
    assert.deepEqual(figures.shipments, { CREATED: 1, CANCELLED: 1 });
    assert.deepEqual(figures.pendingOrders, { running: 0, unverified: 0, notRunning: 0 });
    assert.deepEqual(
      figures.stock.find((row) => row.sku === 'SKU-MUG'),
      { sku: 'SKU-MUG', initial: 1000, available: 998, reserved: 2, committed: 0, unaccounted: 0 },
    );
    assert.deepEqual(
      figures.stock.map((row) => row.sku),
      catalogue.map((product) => product.sku).sort(),
    );
    assert.deepEqual(figures.money, {
      chargedCents: 2_400,
      inFlightCents: 0,
      confirmedCents: 2_400,
      resolvedManuallyCents: 0,
      refundedCents: 2_400 + 2_500,
      unaccountedCents: 0,
    });
    assert.equal(report.temporalChecked, false);
  });

  test('a second payment of a confirmed order: two charges and money unaccounted', async () => {
    const second = await unitDb.payments.payment.create({
      data: {
        id: 'pay_second',
        key: 'by-hand',
        orderId: ids.confirmed,
        amountCents: 2_400,
        currency: 'USD',
        paymentToken: 'tok_visa',
        status: 'CHARGED',
      },
    });
    try {
      const report = await checkInvariants({ db: unitDb });
      assert.deepEqual(subjects(report), [
        [invariants.confirmed, ids.confirmed],
        [invariants.money, undefined],
      ]);
      assert.match(report.violations[0]!.message, /^confirmed order ord_\w+ has 2 CHARGED payments, expected 1: pay_/);
      assert.match(report.violations[0]!.message, /pay_second \$24\.00/);
      assert.equal(
        report.violations[1]!.message,
        'charged $48.00 outside running orders, but confirmed orders total $24.00 and refunds resolved by hand $0.00 ($24.00 charged too much)',
      );
    } finally {
      await unitDb.payments.payment.delete({ where: { id: second.id } });
    }
    assertClean(await checkInvariants({ db: unitDb }));
  });

  test('a charge of the wrong amount and a shipment cancelled under a confirmed order', async () => {
    const payment = await unitDb.payments.payment.findFirstOrThrow({ where: { orderId: ids.confirmed } });
    const shipment = await unitDb.shipping.shipment.findFirstOrThrow({ where: { orderId: ids.confirmed } });
    await unitDb.payments.payment.update({ where: { id: payment.id }, data: { amountCents: 2_000 } });
    await unitDb.shipping.shipment.update({ where: { id: shipment.id }, data: { status: 'CANCELLED' } });
    try {
      const report = await checkInvariants({ db: unitDb });
      assert.deepEqual(
        report.violations.map((violation) => violation.message),
        [
          `confirmed order ${ids.confirmed} was charged $20.00 (${payment.id}) for a total of $24.00`,
          `confirmed order ${ids.confirmed} has 0 CREATED shipments, expected 1`,
          'charged $20.00 outside running orders, but confirmed orders total $24.00 and refunds resolved by hand $0.00 ($4.00 not charged)',
        ],
      );
    } finally {
      await unitDb.payments.payment.update({ where: { id: payment.id }, data: { amountCents: 2_400 } });
      await unitDb.shipping.shipment.update({ where: { id: shipment.id }, data: { status: 'CREATED' } });
    }
    assertClean(await checkInvariants({ db: unitDb }));
  });

  test('a cancelled order left CHARGED: a violation, with a hint when Temporal is not consulted', async () => {
    const payment = await unitDb.payments.payment.findFirstOrThrow({ where: { orderId: ids.undeliverable } });
    await unitDb.payments.payment.update({ where: { id: payment.id }, data: { status: 'CHARGED' } });
    try {
      const report = await checkInvariants({ db: unitDb });
      assert.deepEqual(subjects(report), [
        [invariants.cancelled, ids.undeliverable],
        [invariants.money, undefined],
      ]);
      assert.equal(
        report.violations[0]!.message,
        `cancelled order ${ids.undeliverable} is still charged: ${payment.id} $24.00`,
      );
      assert.match(report.violations[0]!.hint ?? '', /resolved its refund by hand.*run with Temporal/);
      assert.equal(report.figures.money.unaccountedCents, 2_400);
    } finally {
      await unitDb.payments.payment.update({ where: { id: payment.id }, data: { status: 'REFUNDED' } });
    }
    assertClean(await checkInvariants({ db: unitDb }));
  });

  test('a cancelled order whose reservation and shipment were not compensated', async () => {
    const reservation = await unitDb.inventory.reservation.findFirstOrThrow({ where: { orderId: ids.unconfirmed } });
    const shipment = await unitDb.shipping.shipment.findFirstOrThrow({ where: { orderId: ids.unconfirmed } });
    await unitDb.shipping.shipment.update({ where: { id: shipment.id }, data: { status: 'CREATED' } });
    // The stock is taken back too, so that only the reservation's status is wrong.
    await unitDb.inventory.$transaction([
      unitDb.inventory.reservation.update({ where: { id: reservation.id }, data: { status: 'RESERVED' } }),
      unitDb.inventory.product.update({ where: { sku: 'SKU-TEE' }, data: { available: { decrement: 1 } } }),
    ]);
    try {
      const report = await checkInvariants({ db: unitDb });
      assert.deepEqual(
        report.violations.map((violation) => violation.message),
        [
          `cancelled order ${ids.unconfirmed} still holds stock: ${reservation.id} (RESERVED)`,
          `cancelled order ${ids.unconfirmed} still has a CREATED shipment: ${shipment.id}`,
        ],
      );
    } finally {
      await unitDb.shipping.shipment.update({ where: { id: shipment.id }, data: { status: 'CANCELLED' } });
      await unitDb.inventory.$transaction([
        unitDb.inventory.reservation.update({ where: { id: reservation.id }, data: { status: 'RELEASED' } }),
        unitDb.inventory.product.update({ where: { sku: 'SKU-TEE' }, data: { available: { increment: 1 } } }),
      ]);
    }
    assertClean(await checkInvariants({ db: unitDb }));
  });

  test('stock changed by hand breaks its conservation; below zero is reported too', async () => {
    await unitDb.inventory.product.update({ where: { sku: 'SKU-MUG' }, data: { available: { increment: 5 } } });
    try {
      const report = await checkInvariants({ db: unitDb });
      assert.deepEqual(report.violations, [
        {
          invariant: invariants.stock,
          sku: 'SKU-MUG',
          message: 'SKU-MUG: initial 1000 ≠ available 1003 + reserved 2 + committed 0 (5 too many)',
        },
      ]);
      const declared = await checkInvariants({ db: unitDb, initialStock: { 'SKU-MUG': 1005 } });
      assert.deepEqual(subjects(declared), [
        [invariants.stock, 'SKU-HOODIE'],
        [invariants.stock, 'SKU-LAPTOP'],
        [invariants.stock, 'SKU-SOLDOUT'],
        [invariants.stock, 'SKU-TEE'],
      ]);
      assert.match(declared.violations[0]!.message, /SKU-HOODIE is in the inventory but its initial stock is unknown/);
      await unitDb.inventory.product.update({ where: { sku: 'SKU-SOLDOUT' }, data: { available: -1 } });
      assert.deepEqual(
        (await checkInvariants({ db: unitDb })).violations.map((violation) => violation.message),
        [
          'SKU-MUG: initial 1000 ≠ available 1003 + reserved 2 + committed 0 (5 too many)',
          'SKU-SOLDOUT has -1 available, below zero',
          'SKU-SOLDOUT: initial 0 ≠ available -1 + reserved 0 + committed 0 (1 missing)',
        ],
      );
    } finally {
      await unitDb.inventory.product.update({ where: { sku: 'SKU-MUG' }, data: { available: { decrement: 5 } } });
      await unitDb.inventory.product.update({ where: { sku: soldOutSku }, data: { available: 0 } });
    }
    assertClean(await checkInvariants({ db: unitDb }));
  });

  test('a COMMITTED reservation holds stock like a RESERVED one', async () => {
    const reservation = await unitDb.inventory.reservation.findFirstOrThrow({ where: { orderId: ids.confirmed } });
    await unitDb.inventory.reservation.update({ where: { id: reservation.id }, data: { status: 'COMMITTED' } });
    try {
      const report = await checkInvariants({ db: unitDb });
      assertClean(report);
      assert.deepEqual(report.figures.reservations, { COMMITTED: 1, RELEASED: 2 });
      assert.deepEqual(
        report.figures.stock.find((row) => row.sku === 'SKU-MUG'),
        { sku: 'SKU-MUG', initial: 1000, available: 998, reserved: 0, committed: 2, unaccounted: 0 },
      );
    } finally {
      await unitDb.inventory.reservation.update({ where: { id: reservation.id }, data: { status: 'RESERVED' } });
    }
  });

  test('an orphan shipment, of an order the orders service does not know', async () => {
    const orphan = await unitDb.shipping.shipment.create({
      data: {
        id: 'shp_orphan',
        key: 'order-ord_ghost:create-shipment',
        orderId: 'ord_ghost',
        status: 'CREATED',
        ...address,
        carrier: 'Parcelwise',
        trackingNumber: 'PW0',
      },
    });
    try {
      const report = await checkInvariants({ db: unitDb });
      assert.deepEqual(report.violations, [
        {
          invariant: invariants.orphan,
          orderId: 'ord_ghost',
          message: 'shipment shp_orphan (CREATED) belongs to order ord_ghost, unknown to the orders service',
        },
      ]);
    } finally {
      await unitDb.shipping.shipment.delete({ where: { id: orphan.id } });
    }
    assertClean(await checkInvariants({ db: unitDb }));
  });

  test('a status no service writes', async () => {
    await unitDb.orders.order.update({ where: { id: ids.outOfStock }, data: { status: 'LOST' } });
    try {
      const report = await checkInvariants({ db: unitDb });
      assert.deepEqual(report.violations, [
        {
          invariant: invariants.settled,
          orderId: ids.outOfStock,
          message: `order ${ids.outOfStock} has status LOST, neither final nor PENDING`,
        },
      ]);
    } finally {
      await unitDb.orders.order.update({ where: { id: ids.outOfStock }, data: { status: 'CANCELLED' } });
    }
  });

  test('without Temporal, a PENDING order is counted as running, unverified', async () => {
    const orders = createOrdersActivities(unitDb.orders);
    const orderId = orderIdFor('cus_invariants', randomUUID());
    await runActivity(orders.createOrder, {
      key: `${orderWorkflowId(orderId)}:create-order`,
      orderId,
      workflowId: orderWorkflowId(orderId),
      customerId: 'cus_invariants',
      items: mugs,
    });
    try {
      const report = await checkInvariants({ db: unitDb });
      assertClean(report);
      assert.deepEqual(report.unverifiedPendingOrders, [orderId]);
      assert.deepEqual(report.figures.pendingOrders, { running: 0, unverified: 1, notRunning: 0 });
    } finally {
      await unitDb.orders.order.delete({ where: { id: orderId } });
    }
  });
});

describe('the invariant checker at scale', () => {
  const orderCount = 10_000;
  let db: ServiceDatabases;
  let drop: (() => Promise<void>) | undefined;

  before(async () => {
    const databases = await provisionDatabases('sqlite');
    drop = databases.drop;
    db = await openDatabases(databases.urls);
    const orderIds = Array.from({ length: orderCount }, (_, index) => `ord_${String(index).padStart(24, '0')}`);
    await db.orders.order.createMany({
      data: orderIds.map((id) => ({
        id,
        workflowId: orderWorkflowId(id),
        customerId: 'cus_bulk',
        status: 'CONFIRMED',
        totalCents: 1_200,
        paymentId: `pay_${id}`,
        shipmentId: `shp_${id}`,
      })),
    });
    await db.inventory.reservation.createMany({
      data: orderIds.map((id) => ({ id: `res_${id}`, key: `${id}:reserve`, orderId: id, status: 'COMMITTED' })),
    });
    await db.inventory.reservationLine.createMany({
      data: orderIds.map((id) => ({ reservationId: `res_${id}`, sku: 'SKU-MUG', quantity: 1, unitPriceCents: 1_200 })),
    });
    await db.payments.payment.createMany({
      data: orderIds.map((id) => ({
        id: `pay_${id}`,
        key: `${id}:charge`,
        orderId: id,
        amountCents: 1_200,
        currency: 'USD',
        paymentToken: 'tok_visa',
        status: 'CHARGED',
      })),
    });
    await db.shipping.shipment.createMany({
      data: orderIds.map((id) => ({
        id: `shp_${id}`,
        key: `${id}:ship`,
        orderId: id,
        status: 'CREATED',
        ...address,
        carrier: 'Parcelwise',
        trackingNumber: `PW${id}`,
      })),
    });
  });

  after(async () => {
    await closeDatabases(db);
    await drop?.();
  });

  test(`${orderCount} confirmed orders are checked in seconds, and one broken among them is found`, async () => {
    const initialStock = Object.fromEntries(catalogue.map((product) => [product.sku, product.available]));
    // The mugs of these orders were never taken from the seeded stock: they were there from the start.
    initialStock['SKU-MUG'] = 1000 + orderCount;
    const started = performance.now();
    const report = await checkInvariants({ db, initialStock });
    const seconds = (performance.now() - started) / 1000;
    console.log(`checked ${orderCount} orders in ${seconds.toFixed(2)} s`);
    assertClean(report);
    assert.equal(report.figures.orders.CONFIRMED, orderCount);
    assert.equal(report.figures.money.confirmedCents, orderCount * 1_200);
    assert.ok(seconds < 20, `took ${seconds.toFixed(1)} s`);

    const broken = 'ord_000000000000000000004242';
    await db.shipping.shipment.update({ where: { id: `shp_${broken}` }, data: { status: 'CANCELLED' } });
    assert.deepEqual(subjects(await checkInvariants({ db, initialStock })), [[invariants.confirmed, broken]]);
  });
});

const checkerCommand = ['--import', 'tsx', 'scripts/check-invariants.ts'];

async function runChecker(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...checkerCommand, ...args], {
      cwd: projectRoot,
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const databaseEnv = (urls: Record<ServiceName, string>) => ({
  ORDERS_DATABASE_URL: urls.orders,
  INVENTORY_DATABASE_URL: urls.inventory,
  PAYMENTS_DATABASE_URL: urls.payments,
  SHIPPING_DATABASE_URL: urls.shipping,
  // The unit databases' payments were made at the unit gateway: the command checks its store too.
  PAYMENT_GATEWAY_URL: unitGateway.process.url,
});

describe('the check-invariants command', () => {
  test('prints the figures and exits 0 when every invariant holds', async () => {
    const { code, stdout } = await runChecker(['--no-temporal'], databaseEnv(unitUrls));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /Payment gateway \(its own store\)[\s\S]*orders charged twice +0/);
    assert.match(stdout, /Temporal: not consulted \(--no-temporal\)/);
    assert.match(stdout, /Orders\s+CANCELLED 3 · CONFIRMED 1\n/);
    assert.match(stdout, /Payments\s+CHARGED 1 · REFUNDED 2\n/);
    assert.match(stdout, /SKU\s+initial\s+available\s+reserved\s+committed\s+unaccounted\n/);
    assert.match(stdout, /SKU-MUG\s+1000\s+998\s+2\s+0\s+0\n/);
    assert.match(stdout, /confirmed orders\s+\$24\.00\n/);
    assert.match(stdout, /OK: every invariant holds/);
  });

  test('exits 1 and lists the violations', async () => {
    await unitDb.inventory.product.update({ where: { sku: 'SKU-TEE' }, data: { available: { decrement: 3 } } });
    try {
      const { code, stdout } = await runChecker(['--no-temporal'], databaseEnv(unitUrls));
      assert.equal(code, 1, stdout);
      assert.match(
        stdout,
        /Violations \(1\)\n {2}\[stock-conserved\] SKU-TEE: initial 1000 ≠ available 997 \+ reserved 0/,
      );
      assert.match(stdout, /FAILED: 1 violation\(s\)/);
    } finally {
      await unitDb.inventory.product.update({ where: { sku: 'SKU-TEE' }, data: { available: { increment: 3 } } });
    }
  });

  test('exits 2 on a usage or connection error, saying what is wrong', async () => {
    const usage = await runChecker(['--bogus'], databaseEnv(unitUrls));
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Unknown option '--bogus'[\s\S]*Usage:/);

    const temporal = await runChecker([], { ...databaseEnv(unitUrls), TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(temporal.code, 2);
    assert.match(
      temporal.stderr,
      /Cannot reach Temporal at 127\.0\.0\.1:1 \(namespace default, plain text\)[\s\S]*TEMPORAL_ADDRESS[\s\S]*--no-temporal/,
    );

    const missing = `file:${sqliteFilePath(unitUrls.orders)}.missing`;
    const database = await runChecker(['--no-temporal'], { ...databaseEnv(unitUrls), ORDERS_DATABASE_URL: missing });
    assert.equal(database.code, 2);
    assert.match(database.stderr, /The orders database does not exist/);

    const config = await runChecker(['--no-temporal'], { ...databaseEnv(unitUrls), ORDERS_DATABASE_URL: 'mysql://x' });
    assert.equal(config.code, 2);
    assert.match(config.stderr, /ORDERS_DATABASE_URL: must start with file:/);
  });
});

describe('the invariant checker on the running system, with the workflows', () => {
  let stack: Stack;
  const ids = { confirmed: '', declined: '', undeliverable: '', resolvedByHand: '', awaitingApproval: '' };

  async function placeOrder(body: {
    items?: OrderItem[];
    token?: string;
    postalCode?: string;
    customerId?: string;
  }): Promise<string> {
    const response = await fetch(`${stack.baseUrl}/orders`, {
      method: 'POST',
      // Without waiting for the acceptance: the orders are placed at once, the checks come once they all ended.
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), prefer: 'respond-async' },
      body: JSON.stringify({
        customerId: body.customerId ?? 'cus_invariants',
        items: body.items ?? mugs,
        payment: { token: body.token ?? paymentTokens.approved },
        shippingAddress: { ...address, postalCode: body.postalCode ?? address.postalCode },
      }),
    });
    assert.equal(response.status, 202);
    return ((await response.json()) as { orderId: string }).orderId;
  }

  async function waitFor(orderId: string, statuses: readonly OrderStatus[] = finalStatuses): Promise<OrderSagaState> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await fetch(`${stack.baseUrl}/orders/${orderId}`);
      const state = (await response.json()) as OrderSagaState;
      if (statuses.includes(state.status)) return state;
      if (Date.now() > deadline) assert.fail(`order ${orderId} stayed ${state.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  before(async () => {
    stack = await startStack('sqlite');
    ids.confirmed = await placeOrder({});
    ids.declined = await placeOrder({ token: paymentTokens.declined });
    ids.undeliverable = await placeOrder({ postalCode: undeliverablePostalCode });
    ids.resolvedByHand = await placeOrder({
      items: [{ sku: 'SKU-HOODIE', quantity: 1 }],
      token: paymentTokens.refundRejected,
      postalCode: undeliverablePostalCode,
    });
    ids.awaitingApproval = await placeOrder({ items: [{ sku: 'SKU-LAPTOP', quantity: 1 }] });
    const blocked = await placeOrder({ customerId: blockedCustomerId });

    await waitFor(ids.resolvedByHand, ['needs-attention']);
    const resolved = await fetch(`${stack.baseUrl}/orders/${ids.resolvedByHand}/compensation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'mark-resolved', note: 'refunded by bank transfer' }),
    });
    assert.equal(resolved.status, 202);
    for (const orderId of [ids.confirmed, ids.declined, ids.undeliverable, ids.resolvedByHand, blocked]) {
      await waitFor(orderId);
    }
    await waitFor(ids.awaitingApproval, ['awaiting-approval']);
  });

  after(async () => {
    await stack?.stop();
  });

  test('every invariant holds; the refund resolved by hand is listed, the order awaiting approval runs', async () => {
    const report = await checkInvariants({ db: stack.db, client: stack.temporal.client, gateway: stack.gatewayClient });
    assertClean(report);
    assert.equal(report.temporalChecked, true);
    assert.deepEqual(report.figures.orders, { CONFIRMED: 1, CANCELLED: 3, PENDING: 1 });
    assert.deepEqual(report.figures.pendingOrders, { running: 1, unverified: 0, notRunning: 0 });
    const payment = await stack.db.payments.payment.findFirstOrThrow({ where: { orderId: ids.resolvedByHand } });
    assert.deepEqual(report.resolvedManually, [
      { orderId: ids.resolvedByHand, paymentId: payment.id, amountCents: 5_900, note: 'refunded by bank transfer' },
    ]);
    assert.equal(report.figures.money.chargedCents, 2_400 + 5_900);
    assert.equal(report.figures.money.resolvedManuallyCents, 5_900);
    assert.equal(report.figures.money.unaccountedCents, 0);

    const blind = await checkInvariants({ db: stack.db });
    assert.deepEqual(subjects(blind), [
      [invariants.cancelled, ids.resolvedByHand],
      [invariants.money, undefined],
    ]);
    assert.deepEqual(blind.unverifiedPendingOrders, [ids.awaitingApproval]);
  });

  test('a PENDING order without a running workflow: none at all, or one that completed', async () => {
    const orders = createOrdersActivities(stack.db.orders);
    const stray = orderIdFor('cus_invariants', randomUUID());
    await runActivity(orders.createOrder, {
      key: `${orderWorkflowId(stray)}:create-order`,
      orderId: stray,
      workflowId: orderWorkflowId(stray),
      customerId: 'cus_invariants',
      items: mugs,
    });
    await stack.db.orders.order.update({ where: { id: ids.confirmed }, data: { status: 'PENDING' } });
    try {
      const report = await checkInvariants({ db: stack.db, client: stack.temporal.client });
      const settled = report.violations.filter((violation) => violation.invariant === invariants.settled);
      assert.deepEqual(
        settled.map((violation) => violation.message).sort(),
        [
          `order ${ids.confirmed} is PENDING but its workflow ${orderWorkflowId(ids.confirmed)} is COMPLETED`,
          `order ${stray} is PENDING but has no workflow ${orderWorkflowId(stray)}`,
        ].sort(),
      );
      assert.deepEqual(report.figures.pendingOrders, { running: 1, unverified: 0, notRunning: 2 });
    } finally {
      await stack.db.orders.order.delete({ where: { id: stray } });
      await stack.db.orders.order.update({ where: { id: ids.confirmed }, data: { status: 'CONFIRMED' } });
    }
    assertClean(await checkInvariants({ db: stack.db, client: stack.temporal.client }));
  });

  test('a cancelled order left CHARGED whose refund no operator resolved', async () => {
    const payment = await stack.db.payments.payment.findFirstOrThrow({ where: { orderId: ids.undeliverable } });
    await stack.db.payments.payment.update({ where: { id: payment.id }, data: { status: 'CHARGED' } });
    try {
      const report = await checkInvariants({ db: stack.db, client: stack.temporal.client });
      assert.deepEqual(subjects(report), [
        [invariants.cancelled, ids.undeliverable],
        [invariants.money, undefined],
      ]);
      assert.equal(
        report.violations[0]!.message,
        `cancelled order ${ids.undeliverable} is still charged: ${payment.id} $24.00; its refund-payment compensation is completed`,
      );
    } finally {
      await stack.db.payments.payment.update({ where: { id: payment.id }, data: { status: 'REFUNDED' } });
    }
  });

  test('the command consults Temporal: a PENDING order without a workflow fails it', async () => {
    const env = { ...databaseEnv(unitUrls), TEMPORAL_ADDRESS: stack.temporal.address };
    const clean = await runChecker([], env);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, new RegExp(`Temporal: ${stack.temporal.address.replace(/\./g, '\\.')} \\(namespace`));

    const orders = createOrdersActivities(unitDb.orders);
    const stray = orderIdFor('cus_invariants', randomUUID());
    await runActivity(orders.createOrder, {
      key: `${orderWorkflowId(stray)}:create-order`,
      orderId: stray,
      workflowId: orderWorkflowId(stray),
      customerId: 'cus_invariants',
      items: mugs,
    });
    try {
      const failed = await runChecker([], env);
      assert.equal(failed.code, 1, failed.stdout + failed.stderr);
      assert.match(failed.stdout, /PENDING 1 \(0 running, 1 without a running workflow\)/);
      assert.match(failed.stdout, new RegExp(`\\[order-settled\\] order ${stray} is PENDING but has no workflow`));
    } finally {
      await unitDb.orders.order.delete({ where: { id: stray } });
    }
  });
});
