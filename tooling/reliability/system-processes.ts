import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { startCluster, type Cluster } from '../cluster/cluster';
import { clusterDatabases } from '../cluster/settings';
import { loadConfig } from '../../src/config';
import type { DatabaseName } from '../../src/db/layout';
import { launchCarrier, launchGateway, type CarrierProcess, type GatewayProcess } from '../../simulators/launch';
import { launchServiceProcess, waitForApiReady, type ServiceProcess } from '../start/service-process';
import { createDataConverter } from '../../src/temporal/data-converter';
import { newKeyEntry } from '../../src/temporal/encryption-keys';
import { serviceNames, type ServiceName } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { freePort, startDevServer } from '../temporal/servers';

/**
 * The system as it is deployed, for runs that inject faults (the chaos command, the cluster fault test): Temporal
 * (the dev server or the real cluster), the partners, each service worker as one or more processes (replicas on
 * the same task queue) and the API, each a process of its own that can be killed with SIGKILL and started again.
 */

/** Which Temporal the system runs on: the CLI's dev server (one process, SQLite) or the real cluster on PostgreSQL. */
export type TemporalKind = 'dev-server' | 'cluster';

/** Temporal as a fault run sees it: where it is, a client of it, and how it goes down and comes back. */
export interface TemporalUnderFault {
  readonly kind: TemporalKind;
  readonly address: string;
  readonly namespace: string;
  /** A client with the run's data converter (a new one once the dev server has restarted). */
  client(): Client;
  /**
   * The Temporal fault of the chaos command: the dev server stopped and started again on its file; on the
   * cluster, its history service killed with SIGKILL and started again (the frontend stays up, as it would).
   */
  restart(): Promise<void>;
  /** The cluster's processes, to kill and restart one service at a time; undefined on the dev server. */
  readonly cluster: Cluster | undefined;
  stop(): Promise<void>;
}

export interface TemporalUnderFaultOptions {
  kind: TemporalKind;
  /** Payloads stay encrypted as everywhere: this converter reads them. */
  dataConverter: DataConverter;
  /** The cluster's PostgreSQL (a role that may create databases). Required for the cluster. */
  postgresUrl?: string;
  /** The cluster's databases (`<name>`, `<name>_visibility`): dropped before and after the run, so each run is fresh. */
  clusterName?: string;
  log: (line: string) => void;
}

/** Starts a Temporal of the run's own: a dev server on a file in a temporary folder, or a fresh cluster. */
export async function startTemporalUnderFault(options: TemporalUnderFaultOptions): Promise<TemporalUnderFault> {
  return options.kind === 'cluster' ? startFreshCluster(options) : startFileDevServer(options);
}

async function startFileDevServer({ dataConverter }: TemporalUnderFaultOptions): Promise<TemporalUnderFault> {
  const dir = mkdtempSync(path.join(tmpdir(), 'order-saga-temporal-'));
  const port = await freePort();
  const start = () =>
    startDevServer({
      port,
      ip: '127.0.0.1',
      // Persisted, so a restart keeps every run's history, as a real server's database does.
      dbFilename: path.join(dir, 'temporal.db'),
      searchAttributes: orderSearchAttributes,
      client: { dataConverter },
      // Its shutdown during a restart logs every cancelled operation; the run is judged by the invariants instead.
      log: { format: 'pretty', level: 'never' },
      progress: () => undefined,
    });
  let server: TestWorkflowEnvironment | undefined = await start();
  return {
    kind: 'dev-server',
    address: `127.0.0.1:${port}`,
    namespace: server.namespace ?? 'default',
    client: () => {
      if (!server) throw new Error('the dev server is not running');
      return server.client;
    },
    restart: async () => {
      await server?.teardown();
      server = undefined;
      await sleep(2_000);
      server = await start();
    },
    cluster: undefined,
    stop: async () => {
      await server?.teardown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startFreshCluster({
  dataConverter,
  postgresUrl,
  clusterName = 'temporal_faults',
  log,
}: TemporalUnderFaultOptions): Promise<TemporalUnderFault> {
  if (!postgresUrl) throw new Error('the cluster needs a PostgreSQL URL of a role that may create databases');
  await dropClusterDatabases(postgresUrl, clusterName);
  const root = mkdtempSync(path.join(tmpdir(), 'order-saga-cluster-'));
  const cluster = await startCluster({ postgresUrl, name: clusterName, root, log });
  const connection = await Connection.connect({ address: cluster.address });
  const client = new Client({ connection, namespace: cluster.namespace, dataConverter });
  return {
    kind: 'cluster',
    address: cluster.address,
    namespace: cluster.namespace,
    client: () => client,
    restart: async () => {
      await cluster.kill('history');
      await cluster.restart('history');
    },
    cluster,
    stop: async () => {
      await connection.close();
      await cluster.stop();
      await dropClusterDatabases(postgresUrl, clusterName);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function dropClusterDatabases(postgresUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    const { history, visibility } = clusterDatabases(name);
    for (const database of [history, visibility]) {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

/** A payload key of the run's own (unless PAYLOAD_ENCRYPTION_KEYS is set) and the converter that reads with it. */
export function runEncryption(label: string): { keys: string; dataConverter: DataConverter } {
  const keys = process.env.PAYLOAD_ENCRYPTION_KEYS || newKeyEntry(label);
  const dataConverter = createDataConverter(
    loadConfig({ ...process.env, PAYLOAD_ENCRYPTION_KEYS: keys }).payloadEncryption,
  );
  return { keys, dataConverter };
}

export interface SystemProcessesOptions {
  temporal: { address: string; namespace: string };
  databaseUrls: Record<DatabaseName, string>;
  /** Processes per service worker: replicas polling the same task queue. */
  replicas: number;
  /** PAYLOAD_ENCRYPTION_KEYS of every process (see {@link runEncryption}). */
  payloadEncryptionKeys: string;
  /** Settings for every process on top of the run's own, e.g. APPROVAL_THRESHOLD_CENTS. */
  env?: NodeJS.ProcessEnv;
  /** The processes' own output lines. */
  onLine: (line: string) => void;
}

/** The system's processes: partners, the service workers' replicas and the API. */
export interface SystemProcesses {
  apiUrl: string;
  gateway: GatewayProcess;
  carrier: CarrierProcess;
  replicas: number;
  /** A replica's pid while it runs. */
  workerPid(service: ServiceName, replica: number): number | undefined;
  /** SIGKILL to one replica of a service's worker (a crash: nothing finished), then waits until it has exited. */
  killWorker(service: ServiceName, replica: number): Promise<void>;
  /** Starts a killed replica again and waits until it polls. */
  restartWorker(service: ServiceName, replica: number): Promise<void>;
  stop(): Promise<void>;
}

/** Launches the partners, `replicas` processes of each service worker and the API, and waits until the API is ready. */
export async function launchSystemProcesses(options: SystemProcessesOptions): Promise<SystemProcesses> {
  const { onLine } = options;
  const workDir = mkdtempSync(path.join(tmpdir(), 'order-saga-system-'));
  // Picked once Temporal runs: the dev server binds ports of its own choosing (its metrics).
  const [gatewayPort, carrierPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const urls = options.databaseUrls;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: options.temporal.address,
    TEMPORAL_NAMESPACE: options.temporal.namespace,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    // A private API on loopback, driven by the run alone (and its load would trip a rate limit).
    API_AUTH: 'off',
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    ORDERS_DATABASE_URL: urls.orders,
    INVENTORY_DATABASE_URL: urls.inventory,
    PAYMENTS_DATABASE_URL: urls.payments,
    SHIPPING_DATABASE_URL: urls.shipping,
    VIEWS_DATABASE_URL: urls.views,
    // Off: replicas of one service on one host would want the same status port.
    ...Object.fromEntries(serviceNames.map((service) => [`${service.toUpperCase()}_WORKER_STATUS_PORT`, '0'])),
    LOG_LEVEL: 'warn',
    PAYLOAD_ENCRYPTION_KEYS: options.payloadEncryptionKeys,
    PAYMENT_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
    CARRIER_URL: `http://127.0.0.1:${carrierPort}`,
    ...options.env,
  };

  let gateway: GatewayProcess | undefined;
  let carrier: CarrierProcess | undefined;
  let api: ServiceProcess | undefined;
  const workers = new Map<string, ServiceProcess>();
  const replicaName = (service: ServiceName, replica: number) =>
    options.replicas === 1 ? `worker:${service}` : `worker:${service}#${replica + 1}`;
  const launchWorker = async (service: ServiceName, replica: number): Promise<void> => {
    const name = replicaName(service, replica);
    const lastLines: string[] = [];
    const worker = launchServiceProcess({
      name,
      script: 'src/workers/main.ts',
      args: [service],
      env,
      onLine: (line) => {
        lastLines.push(line);
        if (lastLines.length > 20) lastLines.shift();
        onLine(line);
      },
    });
    workers.set(name, worker);
    // A worker that exits at start (a bad setting, its database unreachable) never reports ready: fail, not hang.
    await Promise.race([
      worker.ready,
      worker.closed.then(({ code, signal }) => {
        throw new Error(`${name} exited before it was ready (${signal ?? `code ${code}`}):\n${lastLines.join('\n')}`);
      }),
    ]);
  };
  const stop = async (): Promise<void> => {
    await api?.stop();
    await Promise.all([...workers.values()].map((worker) => worker.stop()));
    await gateway?.stop();
    await carrier?.stop();
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    gateway = await launchGateway({
      port: gatewayPort,
      databaseUrl: `file:${path.join(workDir, 'gateway.db')}`,
      env,
      onLine,
    });
    carrier = await launchCarrier({ port: carrierPort, env, onLine });
    // The first replica of each service migrates its database and seeds the catalogue; the others start after it,
    // so two never seed the same products at once.
    for (let replica = 0; replica < options.replicas; replica += 1) {
      await Promise.all(serviceNames.map((service) => launchWorker(service, replica)));
    }
    api = launchServiceProcess({ name: 'api', script: 'src/api/server.ts', env, onLine });
    await waitForApiReady(apiUrl, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    apiUrl,
    gateway,
    carrier,
    replicas: options.replicas,
    workerPid: (service, replica) => workers.get(replicaName(service, replica))?.pid,
    killWorker: async (service, replica) => {
      const worker = workers.get(replicaName(service, replica));
      worker?.kill();
      await worker?.closed;
    },
    restartWorker: (service, replica) => launchWorker(service, replica),
    stop,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
