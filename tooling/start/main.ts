import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, projectRoot } from '../../src/config';
import { npmScriptChain, watchChain } from './launch-chain';
import { launchServiceProcess, portIsFree, waitForApiReady, type ServiceProcess } from './service-process';
import type { GuardianMessage } from './guardian';
import { StartRecorder, stopLeftovers } from './record';
import { developmentKeyEntries } from '../../src/temporal/encryption-keys';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { startDevServer } from '../temporal/servers';

/**
 * `npm start`: a Temporal dev server with its Web UI, the four service workers
 * (in one process, src/workers/host.ts) and the API, as separate processes.
 * Ctrl-C stops them gracefully, workers finishing their in-flight tasks.
 */

const config = loadConfig();
const children = new Map<string, ServiceProcess>();
let devServer: TestWorkflowEnvironment | undefined;
/** Stops what this process started should it die without stopping it (see tooling/start/guardian.ts). */
let guardian: ServiceProcess | undefined;
/** What runs, for the next `npm start` should this one and its guardian die without stopping it. */
let recorder: StartRecorder | undefined;
const recordFile = path.join(path.dirname(config.temporal.dbFile), 'npm-start.json');
let stopping = false;

/** A process started: the guardian and the record learn of it. */
function track(name: string, pid: number | undefined, stopsItself: boolean): void {
  if (pid === undefined) return;
  guardian?.send({ guard: { pid, stopsItself } } satisfies GuardianMessage);
  recorder?.add(name, pid);
}

function untrack(pid: number | undefined): void {
  if (pid === undefined) return;
  guardian?.send({ unguard: pid } satisfies GuardianMessage);
  recorder?.remove(pid);
}

/** `npm run deploy:version -- set-current <build> --wait 60s`, its output passed through. */
function setCurrentBuild(buildId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/deploy-version.ts', 'set-current', buildId, '--wait', '60s'],
      { cwd: projectRoot, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`deploy:version set-current ${buildId} failed (exit ${code})`)),
    );
  });
}

function say(message: string): void {
  console.log(`[start] ${message}`);
}

function parseAddress(address: string): { host: string; port: number } {
  const separator = address.lastIndexOf(':');
  const port = Number(address.slice(separator + 1));
  if (separator < 0 || !Number.isInteger(port)) {
    throw new Error(`TEMPORAL_ADDRESS must be host:port, got ${address}`);
  }
  return { host: address.slice(0, separator), port };
}

function launch(name: string, script: string, args: string[] = [], env?: NodeJS.ProcessEnv): Promise<void> {
  const service = launchServiceProcess({ name, script, args, env });
  children.set(name, service);
  track(name, service.pid, true);
  void service.closed.then(({ code, signal }) => {
    untrack(service.pid);
    children.delete(name);
    if (!stopping) {
      say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
      void stop(1);
    }
  });
  return service.ready;
}

async function stop(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (children.size > 0) say('stopping workers and API (in-flight work finishes first)');
  await Promise.all([...children.values()].map((service) => service.stop()));
  if (devServer) {
    say('stopping the Temporal dev server');
    await devServer.teardown();
  }
  await guardian?.stop();
  recorder?.clear();
  process.exit(exitCode);
}

/** The dev server the SDK spawned: this process's child running `temporal server start-dev` (ps works on Linux and macOS). */
function devServerPid(): number | undefined {
  try {
    const row = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .find(([, ppid, ...args]) => Number(ppid) === process.pid && args.join(' ').includes('server start-dev'));
    return row ? Number(row[0]) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  // `on`, not `once`: npm forwards Ctrl-C's SIGINT, so it can come twice, and with no listener left tsx exits at once.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  // The terminal closed: its processes get SIGHUP, but the services lead groups of their own and would not.
  process.on('SIGHUP', () => void stop(0));
  // A kill -9 of npm (or of the tsx below it) ends nothing else: this process notices and stops what it started.
  watchChain(npmScriptChain(), ({ ppid }) => {
    say(`process ${ppid}, which ran npm start, has gone (killed?): stopping everything`);
    void stop(1);
  });
  mkdirSync(path.dirname(recordFile), { recursive: true });
  const leftovers = await stopLeftovers(recordFile);
  if (leftovers.found === 'running') {
    throw new Error(
      `npm start is already running (pid ${leftovers.pid}) with the data in ${path.dirname(recordFile)}: ` +
        `stop it first (Ctrl-C where it runs, or kill ${leftovers.pid}), or give this one its own TEMPORAL_DB_FILE and ports.`,
    );
  }
  if (leftovers.found === 'stopped') {
    const names = leftovers.processes.map(({ name, pid }) => `${name} (pid ${pid})`).join(', ');
    say(`a previous npm start (pid ${leftovers.pid}) died without stopping what it started; stopped ${names}`);
  }
  recorder = new StartRecorder(recordFile);
  guardian = launchServiceProcess({ name: 'guardian', script: 'tooling/start/guardian.ts' });
  if (guardian.pid !== undefined) recorder.add('guardian', guardian.pid);
  await Promise.race([
    guardian.ready,
    guardian.closed.then(({ code, signal }) => {
      throw new Error(`The guardian process exited before it was ready (${signal ?? `code ${code}`})`);
    }),
  ]);
  mkdirSync(path.join(projectRoot, 'data'), { recursive: true });
  // Payloads reach Temporal encrypted: with no PAYLOAD_ENCRYPTION_KEYS, a development key is made once, next to the
  // history it protects, and every child process gets it.
  if (config.payloadEncryption.mode === 'on' && config.payloadEncryption.keyring.size === 0) {
    const keyFile = path.join(path.dirname(config.temporal.dbFile), 'payload-encryption-keys');
    const { entries, created } = developmentKeyEntries(keyFile);
    process.env.PAYLOAD_ENCRYPTION_KEYS = entries;
    say(`payloads are encrypted with the development key ${created ? 'just created in' : 'in'} ${keyFile}`);
  }
  const codecHost = config.codecServer.host === '0.0.0.0' ? 'localhost' : config.codecServer.host;
  const codecUrl = `http://${codecHost}:${config.codecServer.port}`;

  const uiUrl = `http://localhost:${config.temporal.uiPort}`;
  if (config.temporal.startDevServer) {
    const { endpoint } = config.temporal;
    // The dev server speaks plain text: with TLS or an API key configured (maybe by a Temporal Cloud profile in the
    // CLI's config file) the workers would fail to connect to it, one by one, after it started.
    if (endpoint.tls !== false || endpoint.apiKey !== undefined) {
      throw new Error(
        'The Temporal connection is configured for TLS or an API key (TEMPORAL_TLS_*, TEMPORAL_API_KEY or a ' +
          'TEMPORAL_PROFILE in the config file), which the dev server does not speak. Set ' +
          'START_TEMPORAL_DEV_SERVER=false to use that server, or unset those settings for the dev server.',
      );
    }
    const { host, port } = parseAddress(config.temporal.address);
    // A dev server that cannot bind exits, but the SDK would then connect to whatever
    // answers on the port and carry on against someone else's server.
    for (const [name, busyPort] of [
      ['Temporal', port],
      ['Web UI', config.temporal.uiPort],
    ] as const) {
      if (!(await portIsFree(host, busyPort))) {
        throw new Error(
          `Port ${busyPort} (${name}) on ${host} is already in use. If it is another Temporal dev server, ` +
            `stop it (pkill -f 'temporal server start-dev') or use it with START_TEMPORAL_DEV_SERVER=false; ` +
            `otherwise choose other ports with TEMPORAL_ADDRESS and TEMPORAL_UI_PORT.`,
        );
      }
    }
    say(`starting the Temporal dev server on ${config.temporal.address}, history in ${config.temporal.dbFile}`);
    devServer = await startDevServer({
      ip: host,
      port,
      ui: true,
      uiPort: config.temporal.uiPort,
      dbFilename: config.temporal.dbFile,
      namespace: config.temporal.namespace,
      searchAttributes: orderSearchAttributes,
      // The Web UI shows payloads decrypted by the codec server (the browser calls it).
      extraArgs: ['--ui-codec-endpoint', codecUrl],
    });
    track('temporal dev server', devServerPid(), false);
    say(`Temporal Web UI: ${uiUrl}`);
  } else {
    say(`using the Temporal server at ${config.temporal.address} (START_TEMPORAL_DEV_SERVER=false)`);
  }

  say(`starting the codec server (${codecUrl}), which decrypts payloads for the Web UI`);
  await launch('codec-server', 'src/codec-server/main.ts');
  say(`starting the payment gateway (${config.gateway.baseUrl}), a process of its own like a real card processor`);
  await launch('gateway', 'simulators/gateway/main.ts');
  say(`starting the carrier (${config.carrier.baseUrl}); shipping falls back to a flat rate when it cannot quote`);
  await launch('carrier', 'simulators/carrier/main.ts');
  // One process for the four service workers: each still has its own task queue, database and status page, and
  // runs alone as `npm run worker:<service>` (compose runs them so); together they share one Temporal runtime.
  say('starting the four service workers in one process; each migrates its own database first');
  await launch('workers', 'src/workers/main.ts', ['all']);
  const { workerDeployment } = config.temporal;
  if (workerDeployment) {
    // A versioned orders worker gets no order until its build is current; here, where one build runs, it is made
    // current at once (a deploy beside a running build does this step by hand: docs/VERSIONING.md).
    say(`making build ${workerDeployment.buildId} of ${workerDeployment.deploymentName} current`);
    await setCurrentBuild(workerDeployment.buildId);
  }
  // A development convenience only, so the curl below works without a key; everywhere else API_AUTH defaults to
  // required. API_AUTH=required npm start tries the keys locally.
  const apiAuth = process.env.API_AUTH ?? 'off';
  if (apiAuth === 'off') {
    say('WARNING: the API runs with API_AUTH=off: no API key is asked for, anyone who reaches it may do anything');
  }
  void launch('api', 'src/api/server.ts', [], { ...process.env, API_AUTH: apiAuth });

  const apiUrl = `http://${config.api.host === '0.0.0.0' ? 'localhost' : config.api.host}:${config.api.port}`;
  say('workers polling; waiting for the API to report ready');
  await waitForApiReady(apiUrl, 120_000, () => stopping);
  say(`ready. API: ${apiUrl}   Web UI: ${uiUrl}   (Ctrl-C to stop)`);
  say(`try: curl -s -X POST ${apiUrl}/orders -H 'Idempotency-Key: demo-1' -H 'content-type: application/json' \\`);
  say(`       -d '{"customerId":"cus_demo","items":[{"sku":"SKU-MUG","quantity":2}],"payment":{"token":"tok_visa"},`);
  say(
    `            "shippingAddress":{"recipient":"Ada","line1":"1 Loop St","city":"Springfield","postalCode":"12345","country":"US"}}'`,
  );
}

main().catch(async (error: unknown) => {
  console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
  await stop(1);
});
