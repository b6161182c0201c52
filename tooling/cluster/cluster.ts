/**
 * A real Temporal cluster on PostgreSQL, as production runs it: the server's four services (history, matching,
 * frontend, internal worker) as separate processes of the server binary that `npm run setup:temporal` builds,
 * persistence and visibility in PostgreSQL set up with temporal-sql-tool, the namespace and the order search
 * attributes registered. `npm run cluster` and the cluster tests start it through `startCluster`.
 *
 * Everything it writes lives under `root` (configs, logs, the ports it chose): a second start with the same root
 * and databases reuses the schema, the namespace and the ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import pg from 'pg';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { portIsFree } from '../start/service-process';
import { isExecutableFile, run, setupCommand, temporalLayout } from '../temporal/servers';
import {
  clusterDatabases,
  clusterNamespace,
  dynamicConfigFile,
  historyShards,
  namespaceRetention,
  schemaSteps,
  sqlPlugin,
  versionedSchema,
} from './settings';

/** The server's services, in the order they start: the frontend last but one, the internal worker needs it. */
export const serverServices = ['history', 'matching', 'frontend', 'worker'] as const;
export type ServerService = (typeof serverServices)[number];

export interface ClusterTls {
  /** The frontend's certificate and key (PEM). */
  certFile: string;
  keyFile: string;
  /** The CA that signed client certificates: given, the frontend requires one (mTLS). Also trusted for the frontend. */
  caFile?: string;
  /** The name the frontend's certificate is for (its SAN), as the internal worker must ask for it. */
  serverName?: string;
}

export interface ClusterOptions {
  /** A PostgreSQL URL of a role that may create databases; only its host, port, user and password are used. */
  postgresUrl: string;
  /** Names the databases (`<name>` and `<name>_visibility`) and, by default, the state folder. */
  name?: string;
  /** Where configs, logs and chosen ports go; `.temporal/cluster/<name>` by default. */
  root?: string;
  /** The frontend's gRPC port; a free one when not given (then kept in `root` for the next start). */
  frontendPort?: number;
  tls?: ClusterTls;
  /** Dynamic config on top of deploy/temporal/dynamicconfig.yaml, e.g. shorter intervals in a test. */
  dynamicConfig?: Record<string, unknown>;
  /** Progress lines; silent by default. The servers' own logs are in `<root>/logs/<service>.log`. */
  log?: (line: string) => void;
}

export interface Cluster {
  /** The frontend, host:port. */
  address: string;
  namespace: string;
  /** The folder holding configs and `logs/<service>.log`. */
  root: string;
  /** The pid of a service's running process (undefined while it is down). */
  pid(service: ServerService): number | undefined;
  /** Kills a service's process (SIGKILL unless told otherwise) and waits until it has exited. */
  kill(service: ServerService, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed service again on the same ports and waits until it listens. */
  restart(service: ServerService): Promise<void>;
  /** Stops every service (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

interface ServicePorts {
  grpc: number;
  membership: number;
  metrics: number;
  http?: number;
}
type ClusterPorts = Record<ServerService, ServicePorts>;

/**
 * PostgreSQL connections each service may open: history does most of the writing, the frontend most of the
 * visibility reading. 64 in all, so the cluster and the system's own processes fit PostgreSQL's default of 100 (the
 * fault test with two replicas of every worker peaked at 90 with 20 + 10 for every service).
 */
const connectionLimits: Record<ServerService, { persistence: number; visibility: number }> = {
  history: { persistence: 20, visibility: 5 },
  matching: { persistence: 10, visibility: 2 },
  frontend: { persistence: 10, visibility: 10 },
  worker: { persistence: 5, visibility: 2 },
};

/** How long a service may take to stop after SIGTERM before it is killed. */
const stopGraceMs = 15_000;
/** How long a start may take: schema setup, four processes joining the ring, the namespace reaching every cache. */
const readyTimeoutMs = 120_000;

/** Starts (or, when its state exists, restarts) a cluster and returns once orders can run on it. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  for (const binary of [temporalLayout.server, temporalLayout.sqlTool]) {
    if (!isExecutableFile(binary)) {
      throw new Error(`${binary} is missing: run \`${setupCommand}\` first (it builds the Temporal server with Go)`);
    }
  }
  const name = options.name ?? 'temporal';
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`cluster name ${name}: lowercase letters, digits and _ only`);
  const root = path.resolve(options.root ?? path.join(temporalLayout.home, 'cluster', name));
  const log = options.log ?? ((): void => {});
  mkdirSync(path.join(root, 'config'), { recursive: true });
  mkdirSync(path.join(root, 'logs'), { recursive: true });
  // A parent killed by a signal (a test runner's timeout, kill -9) leaves its servers running, holding the ports and
  // PostgreSQL connections: the next start with the same root stops them first.
  await stopLeftoverServers(root, log);

  const database = postgresTarget(options.postgresUrl);
  const databases = clusterDatabases(name);
  log(
    `schema: PostgreSQL ${database.host}:${database.port}, databases ${databases.history} and ${databases.visibility}`,
  );
  await setUpSchema(database, databases.history, versionedSchema.history, log);
  await setUpSchema(database, databases.visibility, versionedSchema.visibility, log);

  const ports = await clusterPorts(root, options.frontendPort);
  const address = `127.0.0.1:${ports.frontend.grpc}`;
  const dynamicConfigPath = writeDynamicConfig(root, options.dynamicConfig);
  for (const service of serverServices) {
    writeFileSync(
      configPath(root, service),
      stringifyYaml(serverConfig({ service, ports, database, databases, dynamicConfigPath, tls: options.tls })),
    );
  }

  const processes = new Map<ServerService, ChildProcess>();
  const exits = new Map<ServerService, Promise<void>>();
  const launch = async (service: ServerService): Promise<void> => {
    const logFile = openSync(path.join(root, 'logs', `${service}.log`), 'a');
    const child = spawn(
      temporalLayout.server,
      ['--config-file', configPath(root, service), '--allow-no-auth', 'start', '--service', service],
      { stdio: ['ignore', logFile, logFile] },
    );
    closeSync(logFile);
    processes.set(service, child);
    recordPids(root, processes);
    exits.set(
      service,
      new Promise((resolve) => {
        child.once('exit', () => {
          if (processes.get(service) === child) processes.delete(service);
          resolve();
        });
      }),
    );
    await waitForListening(ports[service].grpc, child, service, root);
    log(`${service}: pid ${child.pid}, gRPC 127.0.0.1:${ports[service].grpc}`);
  };
  const stop = async (): Promise<void> => {
    process.off('exit', killAllNow);
    // The frontend first, so no new work arrives; then the rest together.
    for (const group of [
      ['frontend', 'worker'],
      ['matching', 'history'],
    ] as ServerService[][]) {
      await Promise.all(group.map((service) => stopService(service, 'SIGTERM')));
    }
  };
  const stopService = async (service: ServerService, signal: NodeJS.Signals): Promise<void> => {
    const child = processes.get(service);
    if (!child) return;
    const exited = exits.get(service)!;
    child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), signal === 'SIGKILL' ? 0 : stopGraceMs);
    await exited;
    clearTimeout(killer);
  };
  // A test that crashes must not leave four servers running on its ports.
  const killAllNow = (): void => {
    for (const child of processes.values()) child.kill('SIGKILL');
  };
  process.on('exit', killAllNow);

  try {
    for (const service of serverServices) await launch(service);
    const connection = await connectWhenReady(address, options.tls);
    try {
      await registerNamespace(connection, log);
      await registerSearchAttributes(connection, log);
    } finally {
      await connection.close();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  log(`ready: ${address}, namespace ${clusterNamespace}; server logs in ${path.join(root, 'logs')}`);

  return {
    address,
    namespace: clusterNamespace,
    root,
    pid: (service) => processes.get(service)?.pid,
    kill: (service, signal = 'SIGKILL') => stopService(service, signal),
    restart: async (service) => {
      if (processes.has(service)) throw new Error(`${service} is running (pid ${processes.get(service)!.pid})`);
      await launch(service);
    },
    stop,
  };
}

function pidsFile(root: string): string {
  return path.join(root, 'pids.json');
}

function recordPids(root: string, processes: Map<ServerService, ChildProcess>): void {
  const pids = [...processes.values()].map((child) => child.pid).filter((pid) => pid !== undefined);
  writeFileSync(pidsFile(root), JSON.stringify(pids));
}

/** Kills the servers a previous start with this root left running (only processes of the server binary). */
async function stopLeftoverServers(root: string, log: (line: string) => void): Promise<void> {
  let pids: number[] = [];
  try {
    pids = JSON.parse(readFileSync(pidsFile(root), 'utf8')) as number[];
  } catch {
    return;
  }
  for (const pid of pids) {
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone (or not Linux: nothing to read, nothing killed)
    }
    if (command.startsWith(temporalLayout.server) && command.includes(root)) {
      process.kill(pid, 'SIGKILL');
      log(`stopped a server (pid ${pid}) that an earlier start left running`);
      // Until it has gone, its port would pass for the new server's.
      for (let tries = 0; tries < 50 && existsSync(`/proc/${pid}`); tries += 1) await sleep(100);
    }
  }
}

// ---------------------------------------------------------------------------
// PostgreSQL: databases and schema

interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

function postgresTarget(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`cluster: the PostgreSQL URL is not a URL (postgresql://user:password@host:port/db expected)`);
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error(`cluster: ${parsed.protocol} is not a PostgreSQL URL`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/**
 * Creates the database and its schema when it has none, then brings the schema to the version this server ships
 * (update-schema is a no-op when it is current, which makes a second start and a server upgrade the same path).
 */
async function setUpSchema(
  target: PostgresTarget,
  database: string,
  versioned: string,
  log: (line: string) => void,
): Promise<void> {
  const env = {
    ...process.env,
    SQL_PLUGIN: sqlPlugin,
    SQL_HOST: target.host,
    SQL_PORT: String(target.port),
    SQL_USER: target.user,
    SQL_PASSWORD: target.password,
  };
  const state = await schemaState(target, database);
  if (state === 'absent') log(`schema: creating database ${database}`);
  // The steps compose's schema job runs too; those a database has been through are skipped here.
  const [create, setup, update] = schemaSteps(path.join(temporalLayout.serverSchema, versioned));
  const steps = state === 'absent' ? [create, setup, update] : state === 'empty' ? [setup, update] : [update];
  for (const step of steps) await run(temporalLayout.sqlTool, ['--db', database, ...step!], { env });
}

async function schemaState(target: PostgresTarget, database: string): Promise<'absent' | 'empty' | 'versioned'> {
  const connect = async (db: string): Promise<pg.Client> => {
    const client = new pg.Client({ ...target, database: db });
    await client.connect();
    return client;
  };
  const admin = await connect('postgres');
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) return 'absent';
  } finally {
    await admin.end();
  }
  const client = await connect(database);
  try {
    const table = await client.query<{ name: string | null }>(`SELECT to_regclass('schema_version')::text AS name`);
    return table.rows[0]?.name ? 'versioned' : 'empty';
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------
// Server configuration

function configPath(root: string, service: ServerService): string {
  return path.join(root, 'config', `${service}.yaml`);
}

/** Ports survive restarts (kept in `<root>/ports.json`): the ring remembers members by address. */
async function clusterPorts(root: string, frontendPort: number | undefined): Promise<ClusterPorts> {
  const file = path.join(root, 'ports.json');
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as ClusterPorts;
    const all = serverServices.flatMap((s) => Object.values(kept[s]) as number[]);
    const wanted = frontendPort === undefined || kept.frontend.grpc === frontendPort;
    if (
      wanted &&
      all.every((port) => port < 32_768) &&
      (await Promise.all(all.map((port) => portIsFree('127.0.0.1', port)))).every(Boolean)
    ) {
      return kept;
    }
  }
  const pick = async (): Promise<ServicePorts> => ({
    grpc: await freeLowPort(),
    membership: await freeLowPort(),
    metrics: await freeLowPort(),
  });
  const ports: ClusterPorts = {
    history: await pick(),
    matching: await pick(),
    frontend: { ...(await pick()), ...(frontendPort && { grpc: frontendPort }), http: await freeLowPort() },
    worker: await pick(),
  };
  writeFileSync(file, `${JSON.stringify(ports, null, 2)}\n`);
  return ports;
}

/**
 * A free port below 32768: the membership table stores ports as PostgreSQL `smallint`, so an ephemeral port
 * (32768 and up on Linux) makes a service fail at start ("value out of range for type smallint").
 */
export async function freeLowPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!taken.has(port) && (await portIsFree('127.0.0.1', port))) {
      taken.add(port);
      return port;
    }
  }
}
/** Ports handed out in this process, so two picks cannot return the same port before either is bound. */
const taken = new Set<number>();

function writeDynamicConfig(root: string, overrides: Record<string, unknown> | undefined): string {
  const shared = (parseYaml(readFileSync(dynamicConfigFile, 'utf8')) ?? {}) as Record<string, unknown>;
  const merged = { ...shared };
  for (const [key, value] of Object.entries(overrides ?? {})) merged[key] = [{ value }];
  const file = path.join(root, 'dynamicconfig.yaml');
  writeFileSync(file, stringifyYaml(merged));
  return file;
}

/**
 * One service's config: the same for all four but for its own metrics port (every process reads global.metrics,
 * and the first to bind a shared port would leave the others without metrics). The services find each other
 * through the membership table in PostgreSQL, at the rpc ports given here.
 */
function serverConfig(args: {
  service: ServerService;
  ports: ClusterPorts;
  database: PostgresTarget;
  databases: { history: string; visibility: string };
  dynamicConfigPath: string;
  tls: ClusterTls | undefined;
}): object {
  const { ports, database, tls } = args;
  const sql = (databaseName: string, maxConns: number): object => ({
    sql: {
      pluginName: sqlPlugin,
      databaseName,
      connectAddr: `${database.host}:${database.port}`,
      connectProtocol: 'tcp',
      user: database.user,
      password: database.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (service: ServerService): object => ({
    rpc: {
      grpcPort: ports[service].grpc,
      membershipPort: ports[service].membership,
      bindOnLocalHost: true,
      ...(ports[service].http && { httpPort: ports[service].http }),
    },
  });
  const trust = tls && { serverName: tls.serverName ?? 'localhost', rootCaFiles: tls.caFile ? [tls.caFile] : [] };
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: historyShards,
      datastores: {
        'postgres-default': sql(args.databases.history, connectionLimits[args.service].persistence),
        'postgres-visibility': sql(args.databases.visibility, connectionLimits[args.service].visibility),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `127.0.0.1:${ports[args.service].metrics}`,
        },
      },
      ...(tls && {
        tls: {
          frontend: {
            server: {
              certFile: tls.certFile,
              keyFile: tls.keyFile,
              requireClientAuth: Boolean(tls.caFile),
              ...(tls.caFile && { clientCaFiles: [tls.caFile] }),
            },
            // How the other services (the internal worker, history's callbacks) reach the frontend.
            client: trust,
          },
          systemWorker: { certFile: tls.certFile, keyFile: tls.keyFile, client: trust },
        },
      }),
    },
    services: Object.fromEntries(serverServices.map((service) => [service, rpc(service)])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend.grpc}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: args.dynamicConfigPath, pollInterval: '10s' },
  };
}

// ---------------------------------------------------------------------------
// Readiness, namespace and search attributes

async function waitForListening(
  port: number,
  child: ChildProcess,
  service: ServerService,
  root: string,
): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${service} exited at start (${child.exitCode ?? child.signalCode}):\n${logTail(root, service)}`);
    }
    if (await connects(port)) return;
    await sleep(200);
  }
  throw new Error(`${service} did not listen on ${port} within ${readyTimeoutMs / 1000} s:\n${logTail(root, service)}`);
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function logTail(root: string, service: ServerService): string {
  try {
    return readFileSync(path.join(root, 'logs', `${service}.log`), 'utf8')
      .split('\n')
      .slice(-20)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

async function connectWhenReady(address: string, tls: ClusterTls | undefined): Promise<Connection> {
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({
        address,
        ...(tls && {
          tls: {
            serverNameOverride: tls.serverName ?? 'localhost',
            ...(tls.caFile && {
              serverRootCACertificate: readFileSync(tls.caFile),
              // The cluster's own certificate serves as the admin's client certificate.
              clientCertPair: { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
            }),
          },
        }),
        connectTimeout: 5_000,
      });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the frontend at ${address} did not answer: ${String(error)}`);
      await sleep(500);
    }
  }
}

/** gRPC status codes the registration expects (the numbers are gRPC's, fixed by its specification). */
const grpcAlreadyExists = 6;
const grpcNotFound = 5;

function grpcCode(error: unknown): number | undefined {
  return isGrpcServiceError(error) ? error.code : undefined;
}

async function registerNamespace(connection: Connection, log: (line: string) => void): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace: clusterNamespace,
      workflowExecutionRetentionPeriod: msToTs(namespaceRetention),
    });
    log(`namespace ${clusterNamespace} registered (retention ${namespaceRetention})`);
  } catch (error) {
    if (grpcCode(error) !== grpcAlreadyExists) throw error;
  }
  // A new namespace reaches the frontend's cache within its refresh interval (10 s by default).
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      await connection.workflowService.describeNamespace({ namespace: clusterNamespace });
      return;
    } catch (error) {
      if (grpcCode(error) !== grpcNotFound || Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

async function registerSearchAttributes(connection: Connection, log: (line: string) => void): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: clusterNamespace });
  const missing = orderSearchAttributes.filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace: clusterNamespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
    ),
  });
  log(`search attributes registered: ${missing.map((key) => key.name).join(', ')}`);
  // Workers upsert them at once: wait until the frontend knows every one.
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const listed = await connection.operatorService.listSearchAttributes({ namespace: clusterNamespace });
    if (orderSearchAttributes.every((key) => key.name in (listed.customAttributes ?? {}))) return;
    if (Date.now() > deadline) throw new Error('the search attributes did not appear in time');
    await sleep(500);
  }
}
