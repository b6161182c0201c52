import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, projectRoot } from './config';
import { serviceNames } from './temporal/names';
import { orderSearchAttributes } from './temporal/search-attributes';
import { startDevServer } from './temporal/servers';

/**
 * `npm start`: a Temporal dev server with its Web UI, one worker process per
 * service and the API, as separate processes the way they would be deployed.
 * Ctrl-C stops them gracefully, workers finishing their in-flight tasks.
 */

const config = loadConfig();
const children = new Map<string, ChildProcess>();
let devServer: TestWorkflowEnvironment | undefined;
let stopping = false;

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

/** Starts a process; resolves when it reports ready over IPC (workers do, once polling). */
function launch(name: string, script: string, args: string[] = []): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, script), ...args], {
    cwd: projectRoot,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group, so a terminal's Ctrl-C reaches only this process, which
    // then stops each child once; a child whose parent vanishes stops itself (IPC disconnect).
    detached: true,
  });
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message) => {
      if ((message as { ready?: boolean }).ready) resolve();
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${line}`));
  }
  // 'close', not 'exit': by then the child's last output lines have been read.
  child.on('close', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
      void stop(1);
    }
  });
  children.set(name, child);
  return ready;
}

/** Whether nothing listens on host:port yet (listening there briefly is the only reliable test). */
function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      const body = (await response.json()) as { checks?: { name: string; status: string; error?: string }[] };
      lastProblem = (body.checks ?? [])
        .filter((check) => check.status !== 'ok')
        .map((check) => `${check.name}: ${check.error ?? check.status}`)
        .join('; ');
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`The API did not become ready within ${timeoutMs / 1000} s (${lastProblem})`);
}

async function stop(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (children.size > 0) say('stopping workers and API (in-flight work finishes first)');
  const exits = [...children.values()].map(
    (child) =>
      new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('close', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  );
  await Promise.all(exits);
  if (devServer) {
    say('stopping the Temporal dev server');
    await devServer.teardown();
  }
  process.exit(exitCode);
}

async function main(): Promise<void> {
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  mkdirSync(path.join(projectRoot, 'data'), { recursive: true });

  const uiUrl = `http://localhost:${config.temporal.uiPort}`;
  if (config.temporal.startDevServer) {
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
    });
    say(`Temporal Web UI: ${uiUrl}`);
  } else {
    say(`using the Temporal server at ${config.temporal.address} (START_TEMPORAL_DEV_SERVER=false)`);
  }

  say('starting one worker per service; each migrates its own database first');
  await Promise.all(serviceNames.map((service) => launch(`worker:${service}`, 'src/workers/main.ts', [service])));
  void launch('api', 'src/api/server.ts');

  const apiUrl = `http://${config.api.host === '0.0.0.0' ? 'localhost' : config.api.host}:${config.api.port}`;
  say('workers polling; waiting for the API to report ready');
  await waitUntilReady(`${apiUrl}/health/ready`, 120_000);
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
