/**
 * `tsx bench/statements.ts [sqlite|postgres] [orders] [--time]`: the SQL statements one confirmed order costs the
 * services, activity by activity (the six steps of the happy path, run straight on fresh migrated databases, the
 * partners faked), from Prisma's query events; with --time, no logging and the process's CPU per order and per
 * activity instead. Every statement goes through Prisma's query compiler, so each costs the worker CPU: the figures
 * say which steps to make cheaper (docs/BENCHMARKS.md).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { PrismaClient as InventoryPostgresClient } from '../generated/inventory-postgres/client';
import { PrismaClient as InventorySqliteClient } from '../generated/inventory-sqlite/client';
import { PrismaClient as OrdersPostgresClient } from '../generated/orders-postgres/client';
import { PrismaClient as OrdersSqliteClient } from '../generated/orders-sqlite/client';
import { PrismaClient as PaymentsPostgresClient } from '../generated/payments-postgres/client';
import { PrismaClient as PaymentsSqliteClient } from '../generated/payments-sqlite/client';
import { PrismaClient as ShippingPostgresClient } from '../generated/shipping-postgres/client';
import { PrismaClient as ShippingSqliteClient } from '../generated/shipping-sqlite/client';
import { createInventoryActivities } from '../src/activities/inventory';
import { createOrdersActivities } from '../src/activities/orders';
import { createPaymentsActivities } from '../src/activities/payments';
import { createShippingActivities } from '../src/activities/shipping';
import {
  applyMigrations,
  seedCatalogue,
  serviceNames,
  type InventoryDb,
  type OrdersDb,
  type PaymentsDb,
  type ShippingDb,
} from '../src/db';
import { postgresAdapterAndReader, sqliteAdapter } from '../src/db/adapters';
import type { CarrierClient } from '../src/partners/carrier-client';
import type { GatewayClient } from '../src/partners/gateway-client';
import { provisionDatabases } from '../tooling/db/provision';

const [providerArg = 'sqlite', ordersArg = '3'] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
if (providerArg !== 'sqlite' && providerArg !== 'postgres') throw new Error(`sqlite or postgres, got ${providerArg}`);
const provider = providerArg;
const orders = Number(ordersArg);
const timing = process.argv.includes('--time');

interface QueryEvents {
  $on(event: 'query', listener: (event: { query: string }) => void): void;
  $disconnect(): Promise<void>;
}
type ClientClass = new (options: object) => QueryEvents;

let activity = '';
const statements = new Map<string, Map<string, number>>();

function open<Db>(sqlite: unknown, postgres: unknown, url: string): Db {
  const adapter = provider === 'sqlite' ? sqliteAdapter(url) : postgresAdapterAndReader(url).adapter;
  const Client = (provider === 'sqlite' ? sqlite : postgres) as ClientClass;
  const client = new Client(timing ? { adapter } : { adapter, log: [{ emit: 'event', level: 'query' }] });
  if (!timing) {
    client.$on('query', ({ query }) => {
      if (!activity) return;
      const byStatement = statements.get(activity) ?? new Map<string, number>();
      const statement = query.replace(/\s+/g, ' ').slice(0, 100);
      byStatement.set(statement, (byStatement.get(statement) ?? 0) + 1);
      statements.set(activity, byStatement);
    });
  }
  return client as Db;
}

const { urls, drop } = await provisionDatabases(provider);
await Promise.all(serviceNames.map((service) => applyMigrations(service, urls[service])));
const db = {
  orders: open<OrdersDb>(OrdersSqliteClient, OrdersPostgresClient, urls.orders),
  inventory: open<InventoryDb>(InventorySqliteClient, InventoryPostgresClient, urls.inventory),
  payments: open<PaymentsDb>(PaymentsSqliteClient, PaymentsPostgresClient, urls.payments),
  shipping: open<ShippingDb>(ShippingSqliteClient, ShippingPostgresClient, urls.shipping),
};
await seedCatalogue(db.inventory);
const rate = { source: 'carrier-quote', amountCents: 999, quoteId: 'quote-1', service: 'standard' } as const;
let charges = 0;
const gateway = {
  charge: () => Promise.resolve({ charged: { id: `ch_${(charges += 1)}`, status: 'succeeded' } }),
} as unknown as GatewayClient;
const carrier = { quote: () => Promise.resolve(rate) } as unknown as CarrierClient;
const ordersService = createOrdersActivities(db.orders);
const inventory = createInventoryActivities(db.inventory);
const payments = createPaymentsActivities(db.payments, gateway);
const shipping = createShippingActivities(db.shipping, carrier);

const environment = new MockActivityEnvironment();
const cpuByActivity = new Map<string, number>();
async function run<T>(name: string, call: () => Promise<T>): Promise<T> {
  activity = name;
  const before = process.cpuUsage();
  try {
    return await environment.run(call);
  } finally {
    const used = process.cpuUsage(before);
    cpuByActivity.set(name, (cpuByActivity.get(name) ?? 0) + (used.user + used.system) / 1000);
    activity = '';
  }
}

const startCpu = process.cpuUsage();
for (let n = 0; n < orders; n += 1) {
  const orderId = `ord-statements-${n}-${Date.now()}`;
  const workflowId = `order-${orderId}`;
  const key = (step: string) => `${workflowId}:${step}`;
  const items = [{ sku: 'SKU-MUG', quantity: 1 }];
  await run('createOrder', () =>
    ordersService.createOrder({
      key: key('create-order'),
      orderId,
      workflowId,
      customerId: 'customer-1',
      items,
      requestFingerprint: 'sha256:statements',
    }),
  );
  const reservation = await run('reserveStock', () =>
    inventory.reserveStock({ key: key('reserve-stock'), orderId, items }),
  );
  const payment = await run('chargePayment', () =>
    payments.chargePayment({
      key: key('charge-payment'),
      orderId,
      amountCents: reservation.totalCents,
      paymentToken: 'tok_visa',
    }),
  );
  const shipment = await run('createShipment', () =>
    shipping.createShipment({
      key: key('create-shipment'),
      orderId,
      address: { recipient: 'Ada', line1: '1 Loop St', city: 'Springfield', postalCode: '12345', country: 'US' },
      itemCount: 1,
    }),
  );
  await run('commitReservation', () =>
    inventory.commitReservation({
      key: `${key('confirm-order')}:commit-reservation`,
      stepKey: key('reserve-stock'),
      orderId,
    }),
  );
  await run('confirmOrder', () =>
    ordersService.confirmOrder({
      key: key('confirm-order'),
      orderId,
      totalCents: reservation.totalCents,
      paymentId: payment.paymentId,
      shipmentId: shipment.shipmentId,
      shippingRate: rate,
    }),
  );
}
const used = process.cpuUsage(startCpu);

if (timing) {
  console.log(`${provider}: ${((used.user + used.system) / 1000 / orders).toFixed(1)} ms CPU per order (${orders})`);
  for (const [name, ms] of cpuByActivity) console.log(`  ${name.padEnd(18)} ${(ms / orders).toFixed(2)} ms`);
} else {
  let total = 0;
  for (const [name, byStatement] of statements) {
    const perOrder = [...byStatement.values()].reduce((sum, count) => sum + count, 0) / orders;
    total += perOrder;
    console.log(`\n${name}: ${perOrder} statements per order`);
    for (const [statement, count] of byStatement) console.log(`  ${count / orders}× ${statement}`);
  }
  console.log(`\n${provider}: ${total} statements per order (BEGIN not logged; one per transaction)`);
}
await Promise.all(Object.values(db).map((client) => client.$disconnect()));
await drop();
