import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { projectRoot } from '../../src/config';
import { portIsFree } from '../../tooling/start/service-process';
import { freePort } from '../../src/net/ports';
import { withTimeout } from '../support/timeout';

/**
 * `npm start` killed with no chance to stop anything (kill -9, a crash): whatever it started must end with it, and
 * free its ports, rather than live on as orphans the next `npm start` collides with. `npm start` is npm → sh → tsx →
 * node (tooling/start/main.ts); a kill -9 of npm is what a user does, a crash of tooling/start/main.ts what a bug does.
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

interface NpmStart {
  npm: ChildProcess;
  /** Its output so far, line by line. */
  output: string[];
  /** npm and every process below it, once ready. */
  tree: ProcessRow[];
  /** The node process that runs tooling/start/main.ts. */
  start: ProcessRow;
}

/** `npm start` as a user types it, once it says it is ready. */
async function npmStart(env: NodeJS.ProcessEnv): Promise<NpmStart> {
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
  try {
    await withTimeout(ready, 180_000, () => `npm start was not ready in time:\n${output.join('\n')}`);
  } catch (error) {
    npm.kill('SIGINT');
    throw error;
  }
  const tree = processTree(npm.pid!);
  const start = tree.find((row) => /--import \S+ tooling\/start\/main\.ts$/.test(row.command));
  assert.ok(start, `no node process runs tooling/start/main.ts:\n${tree.map((row) => row.command).join('\n')}`);
  assert.ok(
    tree.some((row) => row.command.includes('server start-dev')),
    'the dev server is in the tree',
  );
  assert.ok(
    tree.length >= 10,
    `npm, sh, tsx, node, the guardian, the dev server and 5 services (codec, gateway, carrier, workers, API): ${tree.length}`,
  );
  return { npm, output, tree, start };
}

/** Waits up to `endWithinMs` for `rows` to end and `ports` to be free; what still runs, what is still taken. */
async function untilEnded(rows: ProcessRow[], ports: Record<string, number>) {
  const since = Date.now();
  let survivors = stillRunning(rows);
  let busyPorts: string[] = Object.keys(ports);
  while ((survivors.length > 0 || busyPorts.length > 0) && Date.now() - since < endWithinMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    survivors = stillRunning(rows);
    busyPorts = [];
    for (const [name, port] of Object.entries(ports)) {
      if (!(await portIsFree('127.0.0.1', port))) busyPorts.push(`${name} (${port})`);
    }
  }
  return { survivors: survivors.map((row) => `${row.pid} ${row.command}`), busyPorts, ms: Date.now() - since };
}

/** A failed run must not leave its processes to the next test. */
function killAll(rows: ProcessRow[]): void {
  for (const row of stillRunning(rows)) process.kill(row.pid, 'SIGKILL');
}

for (const victim of ['npm', 'tooling/start/main.ts'] as const) {
  test(`kill -9 of ${victim}: every process npm start started ends and frees its port`, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'order-saga-orphans-'));
    const { env, ports } = await isolatedEnvironment(dataDir);
    let started: NpmStart | undefined;
    try {
      started = await npmStart(env);
      process.kill(victim === 'npm' ? started.npm.pid! : started.start.pid, 'SIGKILL');
      const { survivors, busyPorts, ms } = await untilEnded(started.tree, ports);
      assert.deepEqual(survivors, [], `still running ${ms} ms after the kill -9 of ${victim}`);
      assert.deepEqual(busyPorts, [], `ports still taken ${ms} ms after the kill -9 of ${victim}`);
      if (victim === 'npm') {
        // npm's death ends no other process: tooling/start/main.ts saw it and stopped everything, as Ctrl-C would.
        assert.ok(
          started.output.some((line) => /which ran npm start, has gone .*: stopping everything/.test(line)),
          started.output.join('\n'),
        );
        assert.equal(started.output.filter((line) => line.includes('worker stopped')).length, 4, 'workers drained');
      }
      console.log(`kill -9 of ${victim}: ${started.tree.length} processes ended and ports freed within ${ms} ms`);
    } finally {
      killAll(started?.tree ?? []);
      started?.npm.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

test('kill -9 of tooling/start/main.ts and its guardian together: the next npm start stops what they left, and says so', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'order-saga-leftovers-'));
  const { env, ports } = await isolatedEnvironment(dataDir);
  let first: NpmStart | undefined;
  let second: NpmStart | undefined;
  try {
    first = await npmStart(env);
    const guardian = first.tree.find((row) => row.command.includes('tooling/start/guardian.ts'));
    const devServer = first.tree.find((row) => row.command.includes('server start-dev'))!;
    assert.ok(guardian, 'the guardian is in the tree');
    process.kill(first.start.pid, 'SIGKILL');
    process.kill(guardian.pid, 'SIGKILL');
    // The services stop themselves; nothing stops the dev server, which holds its ports.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.deepEqual(
      stillRunning([devServer]).map((row) => row.pid),
      [devServer.pid],
    );

    // The same data and Temporal ports; the others afresh, lest a port picked a minute ago be someone else's by now.
    const fresh = await isolatedEnvironment(dataDir);
    const again = { ...fresh.env, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS, TEMPORAL_UI_PORT: env.TEMPORAL_UI_PORT };
    second = await npmStart(again);
    const said = second.output.find((line) => line.includes('a previous npm start'));
    assert.match(
      said ?? second.output.join('\n'),
      new RegExp(
        `a previous npm start \\(pid ${first.start.pid}\\) died without stopping what it started; stopped .*temporal dev server \\(pid ${devServer.pid}\\)`,
      ),
    );
    assert.deepEqual(stillRunning(first.tree), [], 'nothing of the first npm start runs');

    // A live npm start is no leftover: another one on the same data refuses to start, and names it.
    const third = spawn('npm', ['start'], { cwd: projectRoot, env: again, stdio: ['ignore', 'pipe', 'pipe'] });
    let thirdOutput = '';
    for (const stream of [third.stdout, third.stderr])
      stream.setEncoding('utf8').on('data', (chunk: string) => (thirdOutput += chunk));
    const code = await withTimeout(
      new Promise<number | null>((resolve) => third.once('exit', resolve)),
      60_000,
      () => `a second npm start on the same data did not exit:\n${thirdOutput}`,
    );
    assert.equal(code, 1, thirdOutput);
    assert.match(
      thirdOutput,
      new RegExp(`npm start is already running \\(pid ${second.start.pid}\\) with the data in`),
    );
    assert.deepEqual(stillRunning(second.tree).length, second.tree.length, 'the running npm start was left alone');

    process.kill(second.npm.pid!, 'SIGKILL');
    const { survivors, busyPorts } = await untilEnded(second.tree, {
      ...fresh.ports,
      temporal: ports.temporal!,
      webUi: ports.webUi!,
    });
    assert.deepEqual([...survivors, ...busyPorts], []);
  } finally {
    killAll([...(first?.tree ?? []), ...(second?.tree ?? [])]);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
