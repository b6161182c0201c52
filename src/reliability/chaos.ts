import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@libsql/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type ServiceDatabases, openServiceDatabases, closeServiceDatabases } from '../db';
import { provisionDatabases } from '../db/provision';
import { sqliteFilePath } from '../db/url';
import { paymentTokens, soldOutSku, undeliverablePostalCode } from '../domain/failure-triggers';
import { launchServiceProcess, waitForApiReady, type ServiceProcess } from '../service-process';
import { orderWorkflowId, serviceNames, type ServiceName } from '../temporal/names';
import { loadConfig } from '../config';
import { createDataConverter } from '../temporal/data-converter';
import { newKeyEntry } from '../temporal/encryption-keys';
import { orderSearchAttributes } from '../temporal/search-attributes';
import { freePort, startDevServer } from '../temporal/servers';
import { finalStatuses, type OrderSagaState } from '../workflows/definitions';
import { checkInvariants, type InvariantReport } from './invariants';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres';
import { createGatewayClient, defaultGatewayClientOptions } from '../partners/gateway-client';
import { launchCarrier, launchGateway, type CarrierProcess, type GatewayProcess } from '../partners/launch';

/**
 * Fault injection with invariant checks: the whole system runs as separate
 * processes (dev server, four workers, API) on loopback while a bounded load
 * of orders is placed, and faults are injected meanwhile. Afterwards every
 * order must reach a final state and every cross-service invariant must hold.
 */

export const faultNames = ['kill-workers', 'restart-temporal', 'database-outage'] as const;
export type FaultName = (typeof faultNames)[number];

export interface ChaosOptions {
  orders: number;
  /** Orders placed at once. */
  concurrency: number;
  faults: readonly FaultName[];
  /** How often a random worker is killed with SIGKILL (kill-workers). */
  killEveryMs: number;
  /**
   * Where the service databases live: SQLite files, or a PostgreSQL server of
   * the run's own (so that an outage can stop it without touching another).
   */
  database: 'sqlite' | 'postgres';
  /**
   * How long the database outage lasts (database-outage): on SQLite the
   * payments file is locked; on PostgreSQL the server is stopped (as in a
   * crash) and started again, so all four databases are gone meanwhile.
   */
  outageMs: number;
  /**
   * How long faults go on from the start of the load. Orders are still in
   * flight after the last one is placed, so faults continue past the load,
   * until this window closes or every order has finished.
   */
  faultWindowMs: number;
  /** How long to wait for every order to reach a final state once the load is placed. */
  drainTimeoutMs: number;
  seed: number;
  /** Shows the workers' and the API's own output. */
  verbose: boolean;
  log: (line: string) => void;
}

export const defaultChaosOptions: ChaosOptions = {
  orders: 300,
  concurrency: 8,
  faults: faultNames,
  database: 'sqlite',
  killEveryMs: 4_000,
  outageMs: 15_000,
  faultWindowMs: 90_000,
  drainTimeoutMs: 300_000,
  seed: 1,
  verbose: false,
  log: (line) => console.log(line),
};

export interface ChaosReport {
  seed: number;
  orders: { placed: number; duplicatesSent: number; clientRetries: number; byStatus: Record<string, number> };
  faults: { workerKills: number; temporalRestarts: number; databaseOutages: number };
  /** From the end of the load to every order final. */
  drainMs: number;
  undrained: string[];
  /** Activity attempts beyond the first, from the orders' histories: work redone after a fault. */
  retriedActivityAttempts: number;
  invariants: InvariantReport;
  durationMs: number;
}

/** A small seeded generator (mulberry32), so a run's choices can be repeated. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The load's mix of outcomes: mostly successes, and each compensation path. */
function orderBody(random: () => number, index: number) {
  const roll = random();
  const items = [{ sku: random() < 0.5 ? 'SKU-MUG' : 'SKU-TEE', quantity: 1 + Math.floor(random() * 2) }];
  let token: string = paymentTokens.approved;
  let postalCode = '12345';
  if (roll < 0.06) token = paymentTokens.declined;
  else if (roll < 0.12) token = paymentTokens.flaky;
  else if (roll < 0.18) postalCode = undeliverablePostalCode;
  else if (roll < 0.22) items.push({ sku: soldOutSku, quantity: 1 });
  return {
    customerId: `cus_chaos_${index % 20}`,
    items,
    payment: { token },
    shippingAddress: { recipient: 'Chaos Monkey', line1: '1 Fault Lane', city: 'Loopback', postalCode, country: 'US' },
  };
}

export async function runChaos(overrides: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const options = { ...defaultChaosOptions, ...overrides };
  const { log } = options;
  const random = seededRandom(options.seed);
  const startedAt = Date.now();
  const tempDir = mkdtempSync(path.join(tmpdir(), 'order-saga-chaos-'));
  const temporalPort = await freePort();
  let postgres: PrivatePostgres | undefined;
  if (options.database === 'postgres') {
    log('chaos: starting a PostgreSQL server of the run’s own');
    postgres = await startPrivatePostgres(await freePort());
  }
  const databases = await provisionDatabases(options.database, postgres?.adminUrl);
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  let apiUrl = '';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress,
    API_HOST: '127.0.0.1',
    // A private API on loopback, driven by this command alone (and its load would trip a rate limit).
    API_AUTH: 'off',
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    ORDERS_DATABASE_URL: databases.urls.orders,
    INVENTORY_DATABASE_URL: databases.urls.inventory,
    PAYMENTS_DATABASE_URL: databases.urls.payments,
    SHIPPING_DATABASE_URL: databases.urls.shipping,
    VIEWS_DATABASE_URL: databases.urls.views,
    ...Object.fromEntries(serviceNames.map((service) => [`${service.toUpperCase()}_WORKER_STATUS_PORT`, '0'])),
    LOG_LEVEL: 'warn',
    // Encrypted as everywhere, with a key of the run's own unless one is given.
    PAYLOAD_ENCRYPTION_KEYS: process.env.PAYLOAD_ENCRYPTION_KEYS || newKeyEntry('chaos'),
  };
  const dataConverter = createDataConverter(loadConfig(env).payloadEncryption);
  const faults = { workerKills: 0, temporalRestarts: 0, databaseOutages: 0 };
  const startServer = () =>
    startDevServer({
      port: temporalPort,
      ip: '127.0.0.1',
      // Persisted, so a restart keeps every run's history, as a real server's database does.
      dbFilename: path.join(tempDir, 'temporal.db'),
      searchAttributes: orderSearchAttributes,
      client: { dataConverter },
      // Its shutdown during a restart logs every cancelled operation; the run is judged by the invariants instead.
      log: { format: 'pretty', level: 'never' },
      progress: () => undefined,
    });

  let server: TestWorkflowEnvironment | undefined;
  let gateway: GatewayProcess | undefined;
  let carrier: CarrierProcess | undefined;
  const workers = new Map<ServiceName, ServiceProcess>();
  let api: ServiceProcess | undefined;
  let db: ServiceDatabases | undefined;
  const processOutput = options.verbose ? (line: string) => log(line) : () => undefined;
  const launchWorker = (service: ServiceName) => {
    const worker = launchServiceProcess({
      name: `worker:${service}`,
      script: 'src/workers/main.ts',
      args: [service],
      env,
      onLine: processOutput,
    });
    workers.set(service, worker);
    return worker.ready;
  };

  try {
    log(
      `chaos: seed ${options.seed}, ${options.orders} orders on ${options.database}, ` +
        `faults: ${options.faults.join(', ') || 'none'}`,
    );
    server = await startServer();
    // Picked once the dev server runs: it binds ports of its own choosing (its metrics), which could take one picked
    // before it started.
    const [gatewayPort, carrierPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    env.PAYMENT_GATEWAY_URL = `http://127.0.0.1:${gatewayPort}`;
    env.CARRIER_URL = `http://127.0.0.1:${carrierPort}`;
    env.API_PORT = String(apiPort);
    apiUrl = `http://127.0.0.1:${apiPort}`;
    gateway = await launchGateway({
      port: gatewayPort,
      databaseUrl: `file:${path.join(tempDir, 'gateway.db')}`,
      env,
      onLine: processOutput,
    });
    carrier = await launchCarrier({ port: carrierPort, env, onLine: processOutput });
    await Promise.all(serviceNames.map(launchWorker));
    api = launchServiceProcess({ name: 'api', script: 'src/api/server.ts', env, onLine: processOutput });
    await waitForApiReady(apiUrl, 60_000);
    log('chaos: system up; placing orders');

    // --- load ---
    const placed: string[] = [];
    let duplicatesSent = 0;
    let clientRetries = 0;
    let faultsOver = false;
    /** A client that retries with the same Idempotency-Key until the API accepts: safe by design. */
    const place = async (key: string, body: unknown): Promise<string> => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          const response = await fetch(`${apiUrl}/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(15_000),
          });
          // The default answer: 201 accepted, 202 still being accepted (a fault is slowing it down), or the
          // saga's own refusal (422 rejected, 409 cancelled), which names the order in its `state`.
          if (response.status === 201 || response.status === 202) {
            return ((await response.json()) as { orderId: string }).orderId;
          }
          if (response.status === 409 || response.status === 422) {
            const problem = (await response.clone().json()) as { state?: { orderId: string } };
            if (problem.state) return problem.state.orderId;
          }
          if (response.status < 500)
            throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('POST /orders answered')) throw error;
        }
        if (attempt >= 60) throw new Error(`POST /orders with key ${key} failed 60 times`);
        clientRetries += 1;
        await sleep(500);
      }
    };
    let next = 0;
    const loadWorkers = Array.from({ length: options.concurrency }, async () => {
      while (next < options.orders) {
        const index = next++;
        const key = `chaos-${options.seed}-${index}`;
        const body = orderBody(random, index);
        const orderId = await place(key, body);
        placed.push(orderId);
        // Some clients send their request twice (a timeout, a double click): absorbed by the key.
        if (random() < 0.05) {
          duplicatesSent += 1;
          if ((await place(key, body)) !== orderId) throw new Error(`a repeat of ${key} named another order`);
        }
      }
    });

    // --- faults, while the load runs and orders are in flight ---
    const faultWindowEnds = Date.now() + options.faultWindowMs;
    const faultLoop = async () => {
      const restartAt = Math.floor(options.orders * 0.4);
      const outageAt = Math.floor(options.orders * 0.6);
      let restarted = false;
      let outage = false;
      let nextKill = Date.now() + options.killEveryMs;
      while (!faultsOver && Date.now() < faultWindowEnds) {
        await sleep(200);
        if (options.faults.includes('kill-workers') && Date.now() >= nextKill) {
          const service = serviceNames[Math.floor(random() * serviceNames.length)]!;
          log(`chaos: SIGKILL worker:${service}`);
          workers.get(service)?.kill();
          await workers.get(service)?.closed;
          faults.workerKills += 1;
          await sleep(500 + Math.floor(random() * 1_500));
          await launchWorker(service);
          nextKill = Date.now() + options.killEveryMs;
        }
        if (options.faults.includes('restart-temporal') && !restarted && placed.length >= restartAt) {
          restarted = true;
          log('chaos: restarting the Temporal server');
          await server?.teardown();
          await sleep(2_000);
          server = await startServer();
          faults.temporalRestarts += 1;
        }
        if (options.faults.includes('database-outage') && !outage && placed.length >= outageAt) {
          outage = true;
          if (postgres) {
            log(`chaos: PostgreSQL stopped (immediate) for ${options.outageMs} ms`);
            await postgres.stop();
            await sleep(options.outageMs);
            await postgres.start();
            log('chaos: PostgreSQL started again');
          } else {
            const service: ServiceName = 'payments';
            log(`chaos: locking the ${service} database for ${options.outageMs} ms`);
            await lockSqliteDatabase(databases.urls[service], options.outageMs);
          }
          faults.databaseOutages += 1;
        }
      }
    };
    const faultsRunning = faultLoop();
    await Promise.all(loadWorkers);
    const loadEndedAt = Date.now();
    log(`chaos: ${placed.length} orders placed (${clientRetries} client retries); waiting for every order to finish`);

    // --- drain ---
    const unique = [...new Set(placed)];
    const states = new Map<string, OrderSagaState>();
    const drainDeadline = Date.now() + options.drainTimeoutMs;
    while (states.size < unique.length && Date.now() < drainDeadline) {
      for (const orderId of unique) {
        if (states.has(orderId)) continue;
        try {
          const response = await fetch(`${apiUrl}/orders/${orderId}`, { signal: AbortSignal.timeout(10_000) });
          if (!response.ok) continue;
          const state = (await response.json()) as OrderSagaState;
          if (finalStatuses.includes(state.status)) states.set(orderId, state);
        } catch {
          // The API or Temporal may still be recovering; the next round asks again.
        }
      }
      if (states.size < unique.length) await sleep(1_000);
    }
    faultsOver = true;
    await faultsRunning;
    const drainMs = Date.now() - loadEndedAt;
    const undrained = unique.filter((orderId) => !states.has(orderId));
    const byStatus: Record<string, number> = {};
    for (const state of states.values()) byStatus[state.status] = (byStatus[state.status] ?? 0) + 1;
    if (undrained.length > 0) byStatus.unfinished = undrained.length;

    // --- what happened, and do the books balance? ---
    const retriedActivityAttempts = await countRetriedAttempts(server, unique);
    db = openServiceDatabases(databases.urls);
    const invariants = await checkInvariants({
      db,
      client: server.client,
      gateway: createGatewayClient({ ...defaultGatewayClientOptions, baseUrl: gateway.url }),
    });
    return {
      seed: options.seed,
      orders: { placed: unique.length, duplicatesSent, clientRetries, byStatus },
      faults,
      drainMs,
      undrained,
      retriedActivityAttempts,
      invariants,
      durationMs: Date.now() - startedAt,
    };
  } finally {
    await api?.stop();
    await Promise.all([...workers.values()].map((worker) => worker.stop()));
    await gateway?.stop();
    await carrier?.stop();
    await server?.teardown();
    if (db) await closeServiceDatabases(db);
    try {
      await databases.drop();
    } finally {
      await postgres?.destroy();
      rmSync(tempDir, { recursive: true, force: true });
    }
  }
}

/**
 * An outage of a SQLite database: an exclusive transaction held open, so
 * every writer waits out its busy timeout and fails, as if the database were
 * unreachable, until the lock is released.
 */
async function lockSqliteDatabase(url: string, ms: number): Promise<void> {
  const locker = createClient({ url: `file:${sqliteFilePath(url)}` });
  try {
    // A worker may be mid-transaction: wait for it like any writer would, rather than fail the fault at once.
    await locker.execute('PRAGMA busy_timeout = 10000');
    await locker.execute('BEGIN EXCLUSIVE');
    await sleep(ms);
    await locker.execute('ROLLBACK');
  } finally {
    locker.close();
  }
}

/** Counts activity attempts after the first in the orders' histories (ActivityTaskStarted.attempt > 1). */
async function countRetriedAttempts(server: TestWorkflowEnvironment | undefined, orderIds: string[]): Promise<number> {
  if (!server) return 0;
  let retried = 0;
  for (const orderId of orderIds) {
    const history = await server.client.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
    for (const event of history.events ?? []) {
      const attempt = event.activityTaskStartedEventAttributes?.attempt ?? 1;
      if (attempt > 1) retried += attempt - 1;
    }
  }
  return retried;
}
