import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { loadConfig } from '../src/config';
import { databaseNames, type DatabaseName } from '../src/db';
import { provisionDatabases, type ProvisionedDatabases } from '../tooling/db/provision';
import { launchCarrier, launchGateway, type PartnerProcess } from '../simulators/launch';
import { launchServiceProcess, waitForApiReady, type ServiceProcess } from '../tooling/start/service-process';
import { serviceNames } from '../src/temporal/names';
import { developmentKeyEntries } from '../src/temporal/encryption-keys';
import { orderSearchAttributes } from '../src/temporal/search-attributes';
import { freePort, resolveDevServerExecutable, startDevServer } from '../tooling/temporal/servers';
import type { DatabaseProvider, ProcessRole, WorkerLayout } from './results';
import { findChildPids, type TrackedProcess } from './usage';

export type { WorkerLayout };

/**
 * The whole system as `npm start` runs it (tooling/start/main.ts): a Temporal dev server, the payment gateway and the carrier,
 * the four service workers in one process (or one process per service, as compose deploys them) and the API.
 * Everything on free loopback ports with its data in a temp dir (or fresh PostgreSQL databases), plus the bare
 * workflow's workers beside it, laid out as the service workers are.
 */
export interface System {
  provider: DatabaseProvider;
  apiUrl: string;
  client: Client;
  namespace: string;
  /** The settings that change the system's cost, as its processes got them. */
  settings: Record<string, string>;
  /** Every process to measure, the dev server and the run's PostgreSQL backends included. */
  processes: TrackedProcess[];
  /** Names of the Node processes this system launched (workers or worker:orders…, api, bare-workers…). */
  nodeProcessNames: string[];
  /** Stops a Node process gracefully and starts it again with Node flags (e.g. --cpu-prof), or without any. */
  restart(name: string, nodeArgs: string[]): Promise<void>;
  /** Stops a Node process gracefully (SIGTERM, as Ctrl-C under npm start); the system does not count it as a crash. */
  stopProcess(name: string): Promise<void>;
  /** The last lines a process printed (for a diagnosis when something fails). */
  lastLines(name: string): string[];
  stop(): Promise<void>;
}

export interface SystemOptions {
  provider: DatabaseProvider;
  /** PostgreSQL admin URL (a role that may CREATE DATABASE); required for postgres. */
  postgresAdminUrl?: string;
  progress: (line: string) => void;
  /** Print the processes' own output lines too (they are always kept for a diagnosis). */
  verbose?: boolean;
  /** The four service workers in one process, as `npm start` runs them (default), or one process each. */
  workerLayout?: WorkerLayout;
  /** Dev server with eager activity execution on. */
  eagerActivities?: boolean;
  /** The dev server with its own defaults rather than deploy/temporal/dynamicconfig.yaml (--server-defaults). */
  serverDefaults?: boolean;
}

const keptLines = 40;
/** The server's dynamic config key for eager activity execution. */
const eagerActivityExecution = 'system.enableActivityEagerExecution';
const launchTimeoutMs = 180_000;

interface Launched {
  name: string;
  role: ProcessRole;
  script: string;
  args: string[];
  child: ServiceProcess;
}

export async function launchSystem({
  provider,
  postgresAdminUrl,
  progress,
  verbose = false,
  workerLayout = 'combined',
  eagerActivities = false,
  serverDefaults = false,
}: SystemOptions): Promise<System> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'order-saga-bench-'));
  const cleanups: (() => Promise<void>)[] = [() => Promise.resolve(rmSync(dataDir, { recursive: true, force: true }))];
  const lines = new Map<string, string[]>();
  const remember = (name: string) => (line: string) => {
    const kept = lines.get(name) ?? [];
    kept.push(line);
    if (kept.length > keptLines) kept.shift();
    lines.set(name, kept);
    if (verbose) process.stderr.write(`[${name}] ${line}\n`);
  };
  const launched = new Map<string, Launched>();
  let stopping = false;
  let crashed: string | undefined;

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Reverse order of start: the API and the workers first, the dev server and the databases last.
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) =>
        progress(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  };

  try {
    let databases: ProvisionedDatabases;
    if (provider === 'postgres') {
      databases = await provisionDatabases('postgres', postgresAdminUrl);
    } else {
      databases = await provisionDatabases('sqlite');
    }
    cleanups.push(() => databases.drop());

    const temporalPort = await freePort();
    const address = `127.0.0.1:${temporalPort}`;
    progress(`starting the Temporal dev server on ${address}`);
    const devServer: TestWorkflowEnvironment = await startDevServer({
      ip: '127.0.0.1',
      port: temporalPort,
      ui: false,
      dbFilename: path.join(dataDir, 'temporal.db'),
      namespace: 'default',
      searchAttributes: orderSearchAttributes,
      dynamicConfig: !serverDefaults,
      progress,
      ...(eagerActivities ? { extraArgs: ['--dynamic-config-value', `${eagerActivityExecution}=true`] } : {}),
    });
    cleanups.push(() => devServer.teardown());
    const devServerPids = findChildPids(process.pid, [String(temporalPort)]);

    const [gatewayPort, carrierPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      START_TEMPORAL_DEV_SERVER: 'false',
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      ...Object.fromEntries(
        databaseNames.map((database: DatabaseName) => [
          `${database.toUpperCase()}_DATABASE_URL`,
          databases.urls[database],
        ]),
      ),
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      API_AUTH: 'off',
      // The load comes from one client address; the limit protects a shared API, not a benchmark.
      API_RATE_LIMIT_PER_MINUTE: String(100_000_000),
      LOG_LEVEL: 'warn',
      PAYMENT_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
      CARRIER_URL: `http://127.0.0.1:${carrierPort}`,
      ...Object.fromEntries(serviceNames.map((service) => [`${service.toUpperCase()}_WORKER_STATUS_PORT`, '0'])),
    };
    // As npm start does: payloads reach Temporal encrypted, with a development key made for this run unless keys
    // are configured. (The codec server npm start adds serves only the Web UI, which the benchmark does not start.)
    const { payloadEncryption } = loadConfig(env);
    if (payloadEncryption.mode === 'on' && payloadEncryption.keyring.size === 0) {
      env.PAYLOAD_ENCRYPTION_KEYS = developmentKeyEntries(path.join(dataDir, 'payload-encryption-keys')).entries;
    }

    progress('starting the payment gateway and the carrier');
    const partners: [string, PartnerProcess][] = [
      [
        'gateway',
        await launchGateway({
          port: gatewayPort,
          databaseUrl: `file:${path.join(dataDir, 'gateway.db')}`,
          env,
          onLine: remember('gateway'),
        }),
      ],
      ['carrier', await launchCarrier({ port: carrierPort, env, onLine: remember('carrier') })],
    ];
    for (const [, partner] of partners) cleanups.push(() => partner.stop());

    const launch = (name: string, role: ProcessRole, script: string, args: string[], nodeArgs: string[] = []) => {
      const child = launchServiceProcess({ name, script, args, env, nodeArgs, onLine: remember(name) });
      const entry: Launched = { name, role, script, args, child };
      launched.set(name, entry);
      void child.closed.then(({ code, signal }) => {
        if (!stopping && launched.get(name) === entry) crashed ??= `${name} exited (${signal ?? `code ${code}`})`;
      });
      const exitedFirst = child.closed.then(({ code, signal }) => {
        throw new Error(
          `${name} exited before it was ready (${signal ?? `code ${code}`}):\n  ${(lines.get(name) ?? []).join('\n  ')}`,
        );
      });
      return Promise.race([child.ready, exitedFirst]);
    };
    cleanups.push(async () => {
      await Promise.all([...launched.values()].map(({ child }) => child.stop(20_000)));
    });

    progress(
      `starting the four service workers (each migrates its database) and the bare workers, ${workerLayout === 'combined' ? 'each four in one process' : 'one process per service'}`,
    );
    const workerGroups =
      workerLayout === 'combined'
        ? [{ name: 'workers', bareName: 'bare-workers', args: ['all'] }]
        : serviceNames.map((service) => ({
            name: `worker:${service}`,
            bareName: `bare-worker:${service}`,
            args: [service],
          }));
    await withTimeout(
      Promise.all(
        workerGroups.flatMap(({ name, bareName, args }) => [
          launch(name, 'worker', 'src/workers/main.ts', args),
          launch(bareName, 'bare-worker', 'bench/bare/worker.ts', args),
        ]),
      ),
      launchTimeoutMs,
      'the workers did not report ready',
    );
    progress('starting the API');
    void launch('api', 'api', 'src/api/server.ts', []).catch(() => undefined);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitForApiReady(apiUrl, launchTimeoutMs, () => crashed !== undefined);
    if (crashed) throw new Error(crashed);

    const adminPool =
      provider === 'postgres' && postgresAdminUrl ? new pg.Pool({ connectionString: postgresAdminUrl, max: 1 }) : null;
    if (adminPool) cleanups.push(() => adminPool.end());
    const databaseNamesInUse =
      provider === 'postgres' ? Object.values(databases.urls).map((url) => new URL(url).pathname.slice(1)) : [];
    let postgresBackends: number[] = [];
    // Read between samples, not at each one: the query itself would otherwise be a good part of what it measures.
    const refreshBackends = async () => {
      if (!adminPool) return;
      const { rows } = await adminPool.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])',
        [databaseNamesInUse],
      );
      postgresBackends = rows.map((row) => row.pid);
    };
    await refreshBackends();
    const backendTimer = setInterval(() => void refreshBackends().catch(() => undefined), 2_000);
    backendTimer.unref();
    cleanups.push(() => Promise.resolve(clearInterval(backendTimer)));

    const pidOf = (name: string) => () => {
      const pid = launched.get(name)?.child.pid;
      return pid === undefined ? [] : [pid];
    };
    const processes: TrackedProcess[] = [
      { name: 'temporal-server', role: 'temporal-server', pids: () => devServerPids },
      ...partners.map(([name, partner]): TrackedProcess => {
        const pid = partner.process.pid;
        return { name, role: 'partner', pids: () => (pid === undefined ? [] : [pid]) };
      }),
      ...[...launched.values()].map(({ name, role }): TrackedProcess => ({ name, role, pids: pidOf(name) })),
      { name: 'bench', role: 'bench', pids: () => [process.pid] },
    ];
    if (provider === 'postgres') {
      processes.push({ name: 'postgres', role: 'postgres', pids: () => postgresBackends });
    }

    return {
      provider,
      apiUrl,
      client: devServer.client,
      namespace: devServer.namespace ?? 'default',
      settings: {
        LOG_LEVEL: env.LOG_LEVEL ?? '',
        API_AUTH: env.API_AUTH ?? '',
        PAYLOAD_ENCRYPTION: payloadEncryption.mode,
        OTEL_TRACES_EXPORTER: env.OTEL_TRACES_EXPORTER ?? 'none',
        WORKER_LAYOUT: workerLayout,
        [eagerActivityExecution]: String(eagerActivities),
      },
      processes,
      nodeProcessNames: [...launched.keys()],
      async restart(name, nodeArgs) {
        const entry = launched.get(name);
        if (!entry) throw new Error(`no process named ${name}`);
        launched.delete(name);
        await entry.child.stop(30_000);
        const ready = launch(name, entry.role, entry.script, entry.args, nodeArgs);
        if (name === 'api') {
          void ready.catch(() => undefined);
          await waitForApiReady(apiUrl, launchTimeoutMs, () => crashed !== undefined);
        } else {
          await withTimeout(ready, launchTimeoutMs, `${name} did not report ready after its restart`);
        }
      },
      async stopProcess(name) {
        const entry = launched.get(name);
        if (!entry) throw new Error(`no process named ${name}`);
        launched.delete(name);
        await entry.child.stop(30_000);
      },
      lastLines: (name) => lines.get(name) ?? [],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The dev server's version, e.g. "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)", or null. */
export function temporalCliVersion(): string | null {
  const { executable } = resolveDevServerExecutable();
  if (executable.type !== 'existing-path') return null;
  try {
    return execFileSync(executable.path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
