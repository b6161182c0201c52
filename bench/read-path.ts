/**
 * Benchmark item 4, the read path: the first page of the order list from the
 * read model (listOrders over the views database, what GET /orders serves)
 * against Temporal's visibility list (client.workflow.list, what an API
 * without a read model would ask), for the same orders, at growing sizes.
 *
 * Seeding, honestly and quickly:
 * - the read model with synthetic but well-formed events of the catalogue,
 *   stored as the projection stores them and folded by its fold, written in
 *   bulk (bench/bulk-insert.ts); a sample is then refolded through the
 *   projection and must not change;
 * - the visibility store with real workflow executions of the order saga on a
 *   dev server, started with the search attributes the saga sets. No worker
 *   polls their queue, so they stay Running with their first workflow task
 *   scheduled: visibility indexes them like any order in flight.
 * Sizes grow cumulatively (1k, then 9k more for 10k, 90k more for 100k), and the timed queries
 * of the stores are interleaved, so the machine's noise hits them alike.
 *
 * Both sides are called in-process from this client: listOrders goes straight
 * to the database, the visibility list through gRPC on loopback. An API adds
 * the same HTTP hop in front of either.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { applyMigrations, catalogue, createViewsDb, type ViewsDb } from '../src/db';
import { provisionDatabases, type ProvisionedDatabases } from '../tooling/db/provision';
import { eventCatalogue, type DomainEvent, type EventType, type PayloadOf } from '../src/events';
import { newEventId } from '../src/events/ids';
import { foldOrder, listOrders, orderListPageSize, type ListOrdersQuery } from '../src/read-model';
import { orderWorkflowId, orderWorkflowTaskQueue } from '../src/temporal/names';
import {
  customerIdAttribute,
  needsAttentionAttribute,
  orderIdAttribute,
  orderSearchAttributes,
  orderStatusAttribute,
} from '../src/temporal/search-attributes';
import { orderViewRow, refoldOrder, storedEventRow } from '../src/read-model/projection';
import { startDevServer } from '../tooling/temporal/servers';
import { openBulkWriter, type BulkWriter } from './bulk-insert';
import type { OrderSagaInput, OrderStatus } from '../src/workflows/definitions';
import type { orderSaga } from '../src/workflows/order-saga';
import type { Distribution, PercentileRatios } from './results';
import { distribution, percentileRatios } from './stats';

export const readPathStores = ['read-model-sqlite', 'read-model-postgres', 'temporal-visibility'] as const;
export type ReadPathStore = (typeof readPathStores)[number];

export const readPathQueries = ['unfiltered', 'by-customer', 'by-status'] as const;
export type ReadPathQuery = (typeof readPathQueries)[number];

export interface ReadPathMeasurement {
  orders: number;
  store: ReadPathStore;
  query: ReadPathQuery;
  /** Milliseconds per first page. */
  latency: Distribution;
  /** Orders on the page (the same for every store, or the stores disagree). */
  rows: number;
}

export interface ReadPathRatio {
  orders: number;
  query: ReadPathQuery;
  readModel: Exclude<ReadPathStore, 'temporal-visibility'>;
  visibilityOverReadModel: PercentileRatios;
}

export interface ReadPathSeeding {
  store: ReadPathStore;
  /** The size reached; the orders added to get there took `ms`. */
  orders: number;
  added: number;
  ms: number;
}

export interface ReadPathResult {
  sizes: number[];
  pageSize: number;
  customers: number;
  /** Timed calls per store, query and size (after `warmup` untimed ones). */
  iterations: number;
  warmup: number;
  /** The filters' values: one customer of `customers`, one final status. */
  filters: { customerId: string; status: 'confirmed' };
  /** What the visibility list ran against. */
  visibility: { server: string; executions: 'running, never polled' };
  seeding: ReadPathSeeding[];
  measurements: ReadPathMeasurement[];
  /** Temporal visibility's latency divided by each read model's, per size and query: above 1, the read model is faster. */
  ratios: ReadPathRatio[];
  /** Mix of the seeded orders' outcomes, in percent. */
  outcomeMix: Record<SeedOutcome, number>;
  /** From this size on, visibility could not be seeded in time and only the read models were timed (absent: none). */
  visibilityUnseeded?: { orders: number; reason: string } | null;
}

export interface ReadPathOptions {
  /** Default [1000, 10000, 100000]; ascending, seeded cumulatively. */
  sizes?: number[];
  iterations?: number;
  warmup?: number;
  customers?: number;
  /** An admin URL (a role that may CREATE DATABASE): adds the PostgreSQL read model. */
  postgresUrl?: string;
  /** Bound on each seeding step (per store and size). Default 10 min, or 12 ms per order added if longer. */
  seedTimeoutMs?: number;
  /**
   * Seed visibility only up to this many orders; larger sizes time the read models alone. The dev server's starts
   * slow to about 30/s past 20,000 runs, so 100,000 would take most of an hour.
   */
  visibilityUpTo?: number;
  /** The dev server with its own defaults rather than deploy/temporal/dynamicconfig.yaml. */
  serverDefaults?: boolean;
  /** Concurrent workflow starts while seeding visibility. Default 32. */
  startConcurrency?: number;
  log?: (line: string) => void;
}

const defaults = {
  sizes: [1_000, 10_000, 100_000],
  iterations: 100,
  warmup: 5,
  customers: 100,
  seedTimeoutMs: 10 * 60_000,
  /** Visibility took about 4-6 ms per started run (10,000 in 48-56 s): the bound leaves twice that. */
  seedTimeoutPerOrderMs: 12,
  startConcurrency: 32,
  /** How long visibility may take to show every started execution. */
  visibilitySettleMs: 120_000,
} as const;

const statusFilter = 'confirmed' as const;

// ---------------------------------------------------------------------------
// Synthetic orders

type SeedOutcome = 'confirmed' | 'declined' | 'sold-out' | 'in-flight';

/** Out of 20 orders: 14 confirmed, 3 declined, 1 sold out, 2 still in flight (a plausible shop day). */
function outcomeOf(index: number): SeedOutcome {
  const slot = index % 20;
  if (slot < 14) return 'confirmed';
  if (slot < 17) return 'declined';
  if (slot < 18) return 'sold-out';
  return 'in-flight';
}

/** The saga status the workflow would publish in OrderStatus for that outcome. */
const sagaStatusOf: Record<SeedOutcome, OrderStatus> = {
  confirmed: 'confirmed',
  declined: 'failed',
  'sold-out': 'failed',
  'in-flight': 'running',
};

interface SeedOrder {
  index: number;
  orderId: string;
  customerId: string;
  outcome: SeedOutcome;
  items: { sku: string; quantity: number }[];
}

function customerIdOf(index: number, customers: number): string {
  return `cus_bench_${String(index % customers).padStart(4, '0')}`;
}

function seedOrder(index: number, customers: number): SeedOrder {
  const outcome = outcomeOf(index);
  const inStock = catalogue.filter((product) => product.available > 0);
  const soldOut = catalogue.find((product) => product.available === 0) ?? catalogue[0];
  const product = outcome === 'sold-out' ? soldOut : inStock[index % inStock.length];
  return {
    index,
    orderId: `ord_${index.toString(16).padStart(24, '0')}`,
    customerId: customerIdOf(index, customers),
    outcome,
    items: [{ sku: product?.sku ?? 'SKU-MUG', quantity: 1 + (index % 3) }],
  };
}

function envelope<T extends EventType>(
  order: SeedOrder,
  type: T,
  aggregateId: string,
  aggregateVersion: number,
  at: number,
  payload: PayloadOf<T>,
): DomainEvent {
  const definition = eventCatalogue[type];
  return {
    id: newEventId(at),
    type,
    schemaVersion: definition.schemaVersion,
    aggregateType: definition.aggregateType,
    aggregateId,
    aggregateVersion,
    correlation: { orderId: order.orderId, workflowId: orderWorkflowId(order.orderId) },
    occurredAt: new Date(at).toISOString(),
    payload,
  } as DomainEvent;
}

/** The events the four services would have written for the order, a few ms apart, as their relays deliver them. */
function eventsOf(order: SeedOrder, createdAt: number): DomainEvent[] {
  const hex = order.orderId.slice('ord_'.length);
  const reservationId = `res_${hex}`;
  const paymentId = `pay_${hex}`;
  const shipmentId = `shp_${hex}`;
  const currency = 'USD';
  const lines = order.items.map((item) => ({
    ...item,
    unitPriceCents: catalogue.find((product) => product.sku === item.sku)?.priceCents ?? 0,
  }));
  const totalCents = lines.reduce((sum, line) => sum + line.unitPriceCents * line.quantity, 0);
  let at = createdAt;
  const next = () => (at += 40);
  const events = [
    envelope(order, 'OrderCreated', order.orderId, 1, at, {
      customerId: order.customerId,
      items: order.items,
      currency,
    }),
  ];
  if (order.outcome === 'sold-out') {
    events.push(envelope(order, 'OrderCancelled', order.orderId, 2, next(), { reason: 'Out of stock: SKU-SOLDOUT' }));
    return events;
  }
  events.push(envelope(order, 'StockReserved', reservationId, 1, next(), { lines, totalCents }));
  if (order.outcome === 'in-flight') return events;
  if (order.outcome === 'declined') {
    events.push(
      envelope(order, 'PaymentDeclined', paymentId, 1, next(), {
        amountCents: totalCents,
        currency,
        reason: 'card_declined',
        gatewayChargeId: `ch_${hex}`,
      }),
      envelope(order, 'StockReleased', reservationId, 2, next(), { lines: order.items }),
      envelope(order, 'OrderCancelled', order.orderId, 2, next(), { reason: 'Payment declined: card_declined' }),
    );
    return events;
  }
  const shippingRate = { source: 'carrier-quote' as const, amountCents: 495, quoteId: `q_${hex}`, service: 'ground' };
  events.push(
    envelope(order, 'PaymentCharged', paymentId, 1, next(), {
      amountCents: totalCents,
      currency,
      gatewayChargeId: `ch_${hex}`,
    }),
    envelope(order, 'ShipmentCreated', shipmentId, 1, next(), {
      carrier: 'parcelwise',
      trackingNumber: `PW${String(1_000_000_000 + order.index)}`,
      rate: shippingRate,
    }),
    envelope(order, 'StockCommitted', reservationId, 2, next(), { lines: order.items }),
    envelope(order, 'OrderConfirmed', order.orderId, 2, next(), {
      totalCents,
      currency,
      paymentId,
      shipmentId,
      shippingRate,
    }),
  );
  return events;
}

// ---------------------------------------------------------------------------
// Seeding

function progressEvery(total: number): number {
  return Math.max(100, Math.ceil(total / 10));
}

async function withDeadline<T>(what: string, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`${what} took longer than ${ms} ms`)), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `task(i)` for i in [from, to) with at most `concurrency` at once. */
async function forEachBounded(
  from: number,
  to: number,
  concurrency: number,
  signal: AbortSignal,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = from;
  const lanes = Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < to) {
      signal.throwIfAborted();
      const index = next;
      next += 1;
      await task(index);
    }
  });
  await Promise.all(lanes);
}

/** Orders are spread one minute apart, ending now: newest first is the highest index. */
function createdAtOf(index: number, epoch: number): number {
  return epoch + index * 60_000;
}

/**
 * The projection's rows in bulk: each order's events as the projection stores them (storedEventRow) and its view
 * row as the projection folds it (foldOrder, orderViewRow), written by multi-row INSERTs through the driver, one
 * transaction per batch (bench/bulk-insert.ts) instead of the projection's read-back and upsert per order. A
 * sample of orders is then refolded through the projection's own refoldOrder, and must come out unchanged.
 */
async function seedReadModel(
  { views, store, writer }: ReadModelStore,
  from: number,
  to: number,
  settings: Settings,
): Promise<number> {
  const started = performance.now();
  const batch = 2_000;
  let done = 0;
  const every = progressEvery(to - from);
  await withDeadline(`Seeding ${store}`, settings.seedTimeoutMs(to - from), async (signal) => {
    for (let first = from; first < to; first += batch) {
      signal.throwIfAborted();
      const orders: SeedOrder[] = [];
      for (let index = first; index < Math.min(to, first + batch); index += 1) {
        orders.push(seedOrder(index, settings.customers));
      }
      const eventsByOrder = orders.map((order) => eventsOf(order, createdAtOf(order.index, settings.epoch)));
      const appliedAt = new Date();
      await writer.insert([
        { table: 'OrderEvent', rows: eventsByOrder.flat().map((event) => ({ ...storedEventRow(event), appliedAt })) },
        { table: 'OrderView', rows: eventsByOrder.map((events) => orderViewRow(foldOrder(events))) },
      ]);
      const before = done;
      done += orders.length;
      if (Math.floor(done / every) > Math.floor(before / every) || done === to - from) {
        settings.log(`  ${store}: ${from + done}/${to} orders (${seconds(performance.now() - started)})`);
      }
    }
  });
  await checkAgainstProjection(views, store, from, to, settings);
  await settleAfterBulkLoad(views, store);
  return performance.now() - started;
}

/**
 * A read model that has served for a while has planner statistics and, on PostgreSQL, a vacuumed table: the state
 * autovacuum brings a bulk-loaded table to, some seconds or minutes later. Timing right after the load would time
 * autovacuum's work beside the reads (PostgreSQL's p99 did, at 10,000 orders), so the seeding ends by doing it.
 */
async function settleAfterBulkLoad(views: ViewsDb, store: ReadPathStore): Promise<void> {
  if (store === 'read-model-postgres') await views.$executeRawUnsafe('VACUUM ANALYZE');
  else await views.$executeRawUnsafe('ANALYZE');
}

/** Refolds a spread of the seeded orders through the projection: each view must stay exactly as seeded. */
async function checkAgainstProjection(
  views: ViewsDb,
  store: ReadPathStore,
  from: number,
  to: number,
  settings: Settings,
): Promise<void> {
  const samples = 20;
  for (let k = 0; k < samples; k += 1) {
    const orderId = seedOrder(from + Math.floor(((to - from - 1) * k) / (samples - 1)), settings.customers).orderId;
    const seeded = await views.orderView.findUnique({ where: { orderId } });
    await views.$transaction((tx) => refoldOrder(tx, orderId), { isolationLevel: 'Serializable' });
    const refolded = await views.orderView.findUnique({ where: { orderId } });
    if (!seeded || JSON.stringify(seeded) !== JSON.stringify(refolded)) {
      throw new Error(`${store}: the projection refolds ${orderId} differently from how it was seeded`);
    }
  }
}

async function seedVisibility(client: Client, from: number, to: number, settings: Settings): Promise<number> {
  const started = performance.now();
  let done = 0;
  const every = progressEvery(to - from);
  await withDeadline('Seeding Temporal visibility', settings.seedTimeoutMs(to - from), (signal) =>
    forEachBounded(from, to, settings.startConcurrency, signal, async (index) => {
      const order = seedOrder(index, settings.customers);
      const input: OrderSagaInput = {
        orderId: order.orderId,
        customerId: order.customerId,
        items: order.items,
        paymentToken: order.outcome === 'declined' ? 'tok_declined' : 'tok_visa',
        shippingAddress: {
          recipient: 'Bench',
          line1: '1 Loop St',
          city: 'Springfield',
          postalCode: '12345',
          country: 'US',
        },
        approvalThresholdCents: 100_000,
        approvalTimeout: '24h',
      };
      const status = sagaStatusOf[order.outcome];
      await client.workflow.start<typeof orderSaga>('orderSaga', {
        workflowId: orderWorkflowId(order.orderId),
        taskQueue: orderWorkflowTaskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: orderIdAttribute, value: order.orderId },
          { key: customerIdAttribute, value: order.customerId },
          { key: orderStatusAttribute, value: status },
          { key: needsAttentionAttribute, value: false },
        ],
      });
      done += 1;
      if (done % every === 0 || done === to - from) {
        settings.log(
          `  temporal-visibility: ${from + done}/${to} runs started (${seconds(performance.now() - started)})`,
        );
      }
    }),
  );
  // Visibility is eventually consistent: time nothing until it counts every run.
  const deadline = Date.now() + defaults.visibilitySettleMs;
  for (;;) {
    const { count } = await client.workflow.count(`WorkflowType = "orderSaga"`);
    if (count >= to) break;
    if (Date.now() > deadline)
      throw new Error(`Visibility counts ${count} of ${to} runs after ${defaults.visibilitySettleMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return performance.now() - started;
}

// ---------------------------------------------------------------------------
// Timing

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

type ReadOnce = () => Promise<number>;

function readModelQueries(views: ViewsDb, settings: Settings): Record<ReadPathQuery, ReadOnce> {
  const page = async (query: ListOrdersQuery) =>
    (await listOrders(views, { ...query, limit: settings.pageSize })).orders.length;
  return {
    unfiltered: () => page({}),
    'by-customer': () => page({ customerId: settings.filters.customerId }),
    'by-status': () => page({ status: statusFilter }),
  };
}

function visibilityQueries(client: Client, settings: Settings): Record<ReadPathQuery, ReadOnce> {
  const page = async (query?: string) => {
    let rows = 0;
    // The first page only: leaving the loop stops the iterator before it asks for the next one.
    for await (const _execution of client.workflow.list({ query, pageSize: settings.pageSize })) {
      rows += 1;
      if (rows >= settings.pageSize) break;
    }
    return rows;
  };
  return {
    unfiltered: () => page(),
    'by-customer': () => page(`${customerIdAttribute.name} = "${settings.filters.customerId}"`),
    'by-status': () => page(`${orderStatusAttribute.name} = "${statusFilter}"`),
  };
}

async function measureAll(
  orders: number,
  targets: Partial<Record<ReadPathStore, Record<ReadPathQuery, ReadOnce>>>,
  settings: Settings,
): Promise<ReadPathMeasurement[]> {
  const entries = Object.entries(targets) as [ReadPathStore, Record<ReadPathQuery, ReadOnce>][];
  const samples = new Map<string, number[]>();
  const rows = new Map<string, number>();
  for (let round = 0; round < settings.warmup + settings.iterations; round += 1) {
    for (const query of readPathQueries) {
      for (const [store, run] of entries) {
        const started = performance.now();
        const count = await run[query]();
        const elapsed = performance.now() - started;
        const key = `${store}/${query}`;
        rows.set(key, count);
        if (round >= settings.warmup) samples.set(key, [...(samples.get(key) ?? []), elapsed]);
      }
    }
  }
  const measurements: ReadPathMeasurement[] = [];
  for (const query of readPathQueries) {
    const counts = new Set(entries.map(([store]) => rows.get(`${store}/${query}`)));
    if (counts.size > 1)
      throw new Error(`The stores disagree on the ${query} page at ${orders} orders: ${[...counts].join(' vs ')} rows`);
    for (const [store] of entries) {
      const key = `${store}/${query}`;
      measurements.push({
        orders,
        store,
        query,
        latency: distribution(samples.get(key) ?? []),
        rows: rows.get(key) ?? 0,
      });
    }
  }
  return measurements;
}

function readPathRatios(measurements: readonly ReadPathMeasurement[]): ReadPathRatio[] {
  const ratios: ReadPathRatio[] = [];
  for (const visibility of measurements.filter((m) => m.store === 'temporal-visibility')) {
    for (const readModel of measurements) {
      if (readModel.store === 'temporal-visibility') continue;
      if (readModel.orders !== visibility.orders || readModel.query !== visibility.query) continue;
      ratios.push({
        orders: visibility.orders,
        query: visibility.query,
        readModel: readModel.store,
        visibilityOverReadModel: percentileRatios(visibility.latency, readModel.latency),
      });
    }
  }
  return ratios;
}

// ---------------------------------------------------------------------------

interface Settings {
  iterations: number;
  warmup: number;
  customers: number;
  pageSize: number;
  /** The bound on seeding `added` orders into one store. */
  seedTimeoutMs: (added: number) => number;
  startConcurrency: number;
  epoch: number;
  filters: ReadPathResult['filters'];
  log: (line: string) => void;
}

interface ReadModelStore {
  store: ReadPathStore;
  views: ViewsDb;
  writer: BulkWriter;
  databases: ProvisionedDatabases;
}

async function openReadModel(
  store: ReadPathStore,
  provider: 'sqlite' | 'postgres',
  adminUrl?: string,
): Promise<ReadModelStore> {
  const databases = await provisionDatabases(provider, adminUrl);
  try {
    await applyMigrations('views', databases.urls.views);
    return {
      store,
      views: createViewsDb(databases.urls.views),
      writer: openBulkWriter(databases.urls.views),
      databases,
    };
  } catch (error) {
    await databases.drop();
    throw error;
  }
}

export async function measureReadPath(options: ReadPathOptions = {}): Promise<ReadPathResult> {
  const sizes = [...(options.sizes ?? defaults.sizes)].sort((a, b) => a - b);
  const customers = options.customers ?? defaults.customers;
  const largest = sizes[sizes.length - 1] ?? 0;
  const settings: Settings = {
    iterations: options.iterations ?? defaults.iterations,
    warmup: options.warmup ?? defaults.warmup,
    customers,
    pageSize: orderListPageSize.default,
    seedTimeoutMs: (added) =>
      options.seedTimeoutMs ?? Math.max(defaults.seedTimeoutMs, added * defaults.seedTimeoutPerOrderMs),
    startConcurrency: options.startConcurrency ?? defaults.startConcurrency,
    epoch: Date.now() - largest * 60_000,
    filters: { customerId: customerIdOf(7, customers), status: statusFilter },
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  };
  const log = settings.log;

  const readModels: ReadModelStore[] = [];
  const server = await startDevServer({
    ip: '127.0.0.1',
    searchAttributes: orderSearchAttributes,
    log: { format: 'pretty', level: 'error' },
    dynamicConfig: !options.serverDefaults,
    progress: (line) => log(`  [temporal] ${line}`),
  });
  try {
    readModels.push(await openReadModel('read-model-sqlite', 'sqlite'));
    if (options.postgresUrl)
      readModels.push(await openReadModel('read-model-postgres', 'postgres', options.postgresUrl));

    const seeding: ReadPathSeeding[] = [];
    const measurements: ReadPathMeasurement[] = [];
    let seeded = 0;
    let visibilityUnseeded: ReadPathResult['visibilityUnseeded'] = null;
    for (const size of sizes) {
      log(`read path: seeding ${size - seeded} more orders (to ${size})`);
      for (const readModel of readModels) {
        const { store } = readModel;
        const ms = await seedReadModel(readModel, seeded, size, settings);
        seeding.push({ store, orders: size, added: size - seeded, ms: Math.round(ms) });
      }
      if (visibilityUnseeded === null && options.visibilityUpTo !== undefined && size > options.visibilityUpTo) {
        visibilityUnseeded = {
          orders: size,
          reason: `visibility was seeded up to ${options.visibilityUpTo.toLocaleString('en-US')} orders only (--visibility-up-to)`,
        };
        log(`  temporal-visibility: not seeded to ${size} orders (${visibilityUnseeded.reason}); read models only`);
      }
      if (visibilityUnseeded === null) {
        try {
          const ms = await seedVisibility(server.client, seeded, size, settings);
          seeding.push({ store: 'temporal-visibility', orders: size, added: size - seeded, ms: Math.round(ms) });
        } catch (error) {
          // The dev server's starts slow down as runs accumulate: the read models are still timed at this size.
          visibilityUnseeded = { orders: size, reason: error instanceof Error ? error.message : String(error) };
          log(`  temporal-visibility: not seeded to ${size} orders (${visibilityUnseeded.reason}); read models only`);
        }
      }
      seeded = size;

      log(`read path: timing ${settings.iterations} first pages per store and query at ${size} orders`);
      const targets: Partial<Record<ReadPathStore, Record<ReadPathQuery, ReadOnce>>> =
        visibilityUnseeded === null ? { 'temporal-visibility': visibilityQueries(server.client, settings) } : {};
      for (const { store, views } of readModels) targets[store] = readModelQueries(views, settings);
      const measured = await measureAll(size, targets, settings);
      for (const m of measured) {
        log(
          `  ${m.store.padEnd(20)} ${m.query.padEnd(12)} p50 ${m.latency.p50} ms  p95 ${m.latency.p95} ms  p99 ${m.latency.p99} ms  (${m.rows} rows)`,
        );
      }
      measurements.push(...measured);
    }

    const mix = Array.from({ length: 20 }, (_, index) => outcomeOf(index));
    const outcomeMix = Object.fromEntries(
      (['confirmed', 'declined', 'sold-out', 'in-flight'] as const).map((outcome) => [
        outcome,
        (mix.filter((entry) => entry === outcome).length / mix.length) * 100,
      ]),
    ) as Record<SeedOutcome, number>;
    return {
      sizes,
      pageSize: settings.pageSize,
      customers,
      iterations: settings.iterations,
      warmup: settings.warmup,
      filters: settings.filters,
      visibility: { server: 'Temporal dev server (SQLite visibility, in memory)', executions: 'running, never polled' },
      seeding,
      measurements,
      ratios: readPathRatios(measurements),
      outcomeMix,
      visibilityUnseeded,
    };
  } finally {
    for (const { views, writer, databases } of readModels) {
      await writer.close();
      await views.$disconnect();
      await databases.drop();
    }
    await server.teardown();
  }
}

// Standalone: npx tsx bench/read-path.ts --orders 200 [--iterations 50] [--postgres-url postgresql://…] [--seed-timeout-s 600]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: defaults.sizes.join(',') },
      iterations: { type: 'string' },
      'postgres-url': { type: 'string' },
      'seed-timeout-s': { type: 'string' },
    },
  });
  const result = await measureReadPath({
    sizes: values.orders.split(',').map(Number),
    iterations: values.iterations === undefined ? undefined : Number(values.iterations),
    postgresUrl: values['postgres-url'],
    seedTimeoutMs: values['seed-timeout-s'] === undefined ? undefined : Number(values['seed-timeout-s']) * 1000,
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
