import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { projectRoot } from '../src/config';
import { portIsFree } from '../src/service-process';
import { freePort } from '../src/temporal/servers';

/**
 * `npm start` killed with no chance to stop anything (kill -9, a crash): whatever it started must end with it, and
 * free its ports, rather than live on as orphans the next `npm start` collides with. `npm start` is npm → sh → tsx →
 * node (src/start.ts); a kill -9 of npm is what a user does, a crash of src/start.ts what a bug does.
 */

interface ProcessRow {
  pid: number;
  ppid: number;
  /** ps's STAT: Z is a zombie, ended but not yet reaped. */
  state: string;
  command: string;
}

function processTable(): ProcessRow[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, pid, ppid, state, command]) => ({
      pid: Number(pid),
      ppid: Number(ppid),
      state: state!,
      command: command!,
    }));
}

/** `root` and every process below it. */
function processTree(root: number): ProcessRow[] {
  const table = processTable();
  const tree = table.filter((row) => row.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...table.filter((row) => row.ppid === tree[i]!.pid));
  return tree;
}

/** Those of `rows` still running (a zombie has ended: it holds no port and runs no code). */
function stillRunning(rows: ProcessRow[]): ProcessRow[] {
  const running = new Map(processTable().map((row) => [row.pid, row]));
  return rows.filter((row) => {
    const now = running.get(row.pid);
    return now !== undefined && !now.state.startsWith('Z') && now.command === row.command;
  });
}

/** Every port `npm start` listens on, free ones, and the environment that gives them to it. */
async function isolatedEnvironment(
  dataDir: string,
): Promise<{ env: NodeJS.ProcessEnv; ports: Record<string, number> }> {
  const names = ['temporal', 'webUi', 'api', 'codecServer', 'gateway', 'carrier'] as const;
  const services = ['ORDERS', 'INVENTORY', 'PAYMENTS', 'SHIPPING'] as const;
  const ports: Record<string, number> = {};
  for (const name of [...names, ...services]) ports[name] = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_UI_PORT: String(ports.webUi),
    TEMPORAL_DB_FILE: path.join(dataDir, 'temporal.db'),
    API_PORT: String(ports.api),
    CODEC_SERVER_PORT: String(ports.codecServer),
    GATEWAY_PORT: String(ports.gateway),
    PAYMENT_GATEWAY_URL: `http://127.0.0.1:${ports.gateway}`,
    GATEWAY_DATABASE_URL: `file:${path.join(dataDir, 'gateway.db')}`,
    CARRIER_PORT: String(ports.carrier),
    CARRIER_URL: `http://127.0.0.1:${ports.carrier}`,
    ...Object.fromEntries(services.map((service) => [`${service}_WORKER_STATUS_PORT`, String(ports[service])])),
    ...Object.fromEntries(
      [...services, 'VIEWS'].map((service) => [
        `${service}_DATABASE_URL`,
        `file:${path.join(dataDir, `${service.toLowerCase()}.db`)}`,
      ]),
    ),
  };
  return { env, ports };
}

/** How long the processes may take to end after the kill: a graceful stop of idle workers, then the dev server. */
const endWithinMs = 15_000;

for (const victim of ['npm', 'src/start.ts'] as const) {
  test(`kill -9 of ${victim}: every process npm start started ends and frees its port`, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'order-saga-orphans-'));
    const { env, ports } = await isolatedEnvironment(dataDir);
    const npm = spawn('npm', ['start'], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const ready = new Promise<void>((resolve, reject) => {
      for (const stream of [npm.stdout, npm.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          output.push(line);
          if (line.startsWith('[start] ready.')) resolve();
        });
      }
      npm.once('exit', (code) => reject(new Error(`npm start exited (${code}) before ready:\n${output.join('\n')}`)));
    });
    let started: ProcessRow[] = [];
    try {
      await withTimeout(ready, 180_000, () => `npm start was not ready in time:\n${output.join('\n')}`);
      started = processTree(npm.pid!);
      const node = started.find((row) => /--import \S+ src\/start\.ts$/.test(row.command));
      assert.ok(node, `no node process runs src/start.ts:\n${started.map((row) => row.command).join('\n')}`);
      assert.ok(
        started.some((row) => row.command.includes('server start-dev')),
        'the dev server is in the tree',
      );
      assert.ok(started.length >= 12, `npm, sh, tsx, node, the dev server and 8 services: ${started.length}`);

      const killed = Date.now();
      process.kill(victim === 'npm' ? npm.pid! : node.pid, 'SIGKILL');
      let survivors = stillRunning(started);
      let busyPorts: string[] = Object.keys(ports);
      while ((survivors.length > 0 || busyPorts.length > 0) && Date.now() - killed < endWithinMs) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        survivors = stillRunning(started);
        busyPorts = [];
        for (const [name, port] of Object.entries(ports)) {
          if (!(await portIsFree('127.0.0.1', port))) busyPorts.push(`${name} (${port})`);
        }
      }
      const ended = Date.now() - killed;
      assert.deepEqual(
        survivors.map((row) => `${row.pid} ${row.command}`),
        [],
        `still running ${ended} ms after the kill -9 of ${victim}`,
      );
      assert.deepEqual(busyPorts, [], `ports still taken ${ended} ms after the kill -9 of ${victim}`);
      if (victim === 'npm') {
        // npm's death ends no other process: src/start.ts saw it and stopped everything, as Ctrl-C would.
        assert.ok(
          output.some((line) => /which ran npm start, has gone .*: stopping everything/.test(line)),
          output.join('\n'),
        );
        assert.equal(output.filter((line) => line.includes('worker stopped')).length, 4, 'every worker drained');
      }
      console.log(`kill -9 of ${victim}: ${started.length} processes ended and ports freed within ${ended} ms`);
    } finally {
      // A failed run must not leave its processes to the next test.
      for (const row of stillRunning(started)) process.kill(row.pid, 'SIGKILL');
      npm.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message())), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
