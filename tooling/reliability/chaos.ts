import { createClient } from '@libsql/client';
import type { Client } from '@temporalio/client';
import { type ServiceDatabases, openServiceDatabases, closeServiceDatabases } from '../../src/db';
import { provisionDatabases } from '../db/provision';
import { sqliteFilePath } from '../../src/db/url';
import { paymentTokens, soldOutSku, undeliverablePostalCode } from '../../src/domain/failure-triggers';
import { orderWorkflowId, serviceNames, type ServiceName } from '../../src/temporal/names';
import { freePort } from '../temporal/servers';
import { finalStatuses, type OrderSagaState } from '../../src/workflows/definitions';
import { checkInvariants, type InvariantReport } from './invariants';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres';
import {
  launchSystemProcesses,
  runEncryption,
  startTemporalUnderFault,
  type SystemProcesses,
  type TemporalKind,
  type TemporalUnderFault,
} from './system-processes';
import { createGatewayClient, defaultGatewayClientOptions } from '../../src/partners/gateway-client';

/**
 * Fault injection with invariant checks: the whole system runs as separate
 * processes (Temporal, four workers, API; tooling/reliability/system-processes.ts) on loopback while a bounded load
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
   * Which Temporal: the dev server (restart-temporal stops and starts it), or the real cluster on PostgreSQL
   * (restart-temporal kills its history service with SIGKILL and starts it again).
   */
  temporal: TemporalKind;
  /** The cluster's PostgreSQL, a role that may create databases (the run drops and creates `temporal_chaos`). */
  clusterPostgresUrl: string | undefined;
  /** Processes of each service worker; a kill takes one of them, the others keep polling. */
  replicas: number;
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
  temporal: 'dev-server',
  clusterPostgresUrl: process.env.CLUSTER_POSTGRES_URL || process.env.TEST_POSTGRES_URL,
  replicas: 1,
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
  let postgres: PrivatePostgres | undefined;
  if (options.database === 'postgres') {
    log('chaos: starting a PostgreSQL server of the run’s own');
    postgres = await startPrivatePostgres(await freePort());
  }
  const databases = await provisionDatabases(options.database, postgres?.adminUrl);
  const encryption = runEncryption('chaos');
  const faults = { workerKills: 0, temporalRestarts: 0, databaseOutages: 0 };
  const processOutput = options.verbose ? (line: string) => log(line) : () => undefined;

  let temporal: TemporalUnderFault | undefined;
  let system: SystemProcesses | undefined;
  let db: ServiceDatabases | undefined;
  try {
    log(
      `chaos: seed ${options.seed}, ${options.orders} orders on ${options.database}, Temporal ${options.temporal}` +
        `${options.replicas > 1 ? `, ${options.replicas} replicas of each worker` : ''}, ` +
        `faults: ${options.faults.join(', ') || 'none'}`,
    );
    temporal = await startTemporalUnderFault({
      kind: options.temporal,
      dataConverter: encryption.dataConverter,
      // Not the run's own PostgreSQL: its outage is the service databases', Temporal's persistence stays up.
      postgresUrl: options.clusterPostgresUrl,
      clusterName: 'temporal_chaos',
      log: options.verbose ? (line) => log(`cluster: ${line}`) : () => undefined,
    });
    system = await launchSystemProcesses({
      temporal,
      databaseUrls: databases.urls,
      replicas: options.replicas,
      payloadEncryptionKeys: encryption.keys,
      onLine: processOutput,
    });
    const { apiUrl } = system;
    log('chaos: system up; placing orders');

    // --- load ---
    const placed: string[] = [];
    let duplicatesSent = 0;
    let clientRetries = 0;
    let faultsOver = false;
    const place = (key: string, body: unknown) =>
      placeOrderUntilAnswered(apiUrl, key, body, () => {
        clientRetries += 1;
      });
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
          const replica = Math.floor(random() * options.replicas);
          log(`chaos: SIGKILL worker:${service}${options.replicas > 1 ? ` replica ${replica + 1}` : ''}`);
          await system?.killWorker(service, replica);
          faults.workerKills += 1;
          await sleep(500 + Math.floor(random() * 1_500));
          await system?.restartWorker(service, replica);
          nextKill = Date.now() + options.killEveryMs;
        }
        if (options.faults.includes('restart-temporal') && !restarted && placed.length >= restartAt) {
          restarted = true;
          log(
            options.temporal === 'cluster'
              ? 'chaos: SIGKILL the cluster’s history service, then start it again'
              : 'chaos: restarting the Temporal server',
          );
          await temporal?.restart();
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
    const states = await waitForFinalStates(apiUrl, unique, Date.now() + options.drainTimeoutMs);
    faultsOver = true;
    await faultsRunning;
    const drainMs = Date.now() - loadEndedAt;
    const undrained = unique.filter((orderId) => !states.has(orderId));
    const byStatus: Record<string, number> = {};
    for (const state of states.values()) byStatus[state.status] = (byStatus[state.status] ?? 0) + 1;
    if (undrained.length > 0) byStatus.unfinished = undrained.length;

    // --- what happened, and do the books balance? ---
    const client = temporal.client();
    const retriedActivityAttempts = await countRetriedAttempts(client, unique);
    db = openServiceDatabases(databases.urls);
    const invariants = await checkInvariants({
      db,
      client,
      gateway: createGatewayClient({ ...defaultGatewayClientOptions, baseUrl: system.gateway.url }),
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
    await system?.stop();
    await temporal?.stop();
    if (db) await closeServiceDatabases(db);
    try {
      await databases.drop();
    } finally {
      await postgres?.destroy();
    }
  }
}

/**
 * Places an order as a careful client does: retries with the same Idempotency-Key until the API answers (safe by
 * design), through a Temporal or API outage. Returns the order's id, from the answer or from a refusal's state.
 */
export async function placeOrderUntilAnswered(
  apiUrl: string,
  key: string,
  body: unknown,
  onRetry: () => void = () => undefined,
): Promise<string> {
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
      if (response.status < 500) throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('POST /orders answered')) throw error;
    }
    if (attempt >= 60) throw new Error(`POST /orders with key ${key} failed 60 times`);
    onRetry();
    await sleep(500);
  }
}

/** Asks the API for each order until all are final or the deadline passes; returns the final states found. */
export async function waitForFinalStates(
  apiUrl: string,
  orderIds: readonly string[],
  deadline: number,
): Promise<Map<string, OrderSagaState>> {
  const states = new Map<string, OrderSagaState>();
  while (states.size < orderIds.length && Date.now() < deadline) {
    for (const orderId of orderIds) {
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
    if (states.size < orderIds.length) await sleep(1_000);
  }
  return states;
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
export async function countRetriedAttempts(client: Client, orderIds: readonly string[]): Promise<number> {
  let retried = 0;
  for (const orderId of orderIds) {
    const history = await client.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
    for (const event of history.events ?? []) {
      const attempt = event.activityTaskStartedEventAttributes?.attempt ?? 1;
      if (attempt > 1) retried += attempt - 1;
    }
  }
  return retried;
}
