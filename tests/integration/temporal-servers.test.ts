/**
 * The two Temporal servers really start (from the SDK's download, or the copy
 * `npm run setup:temporal` builds, which the helpers build on demand), and a
 * misconfigured override fails with a message that says what to fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  TemporalServerUnavailableError,
  missingTools,
  resolveDevServerExecutable,
  resolveTestServerExecutable,
  startDevServer,
  startTimeSkippingServer,
  temporalLayout,
} from '../../tooling/temporal/servers';

/** A cold build of the CLI from the Go module proxy takes minutes; a warm start takes seconds. */
const serverTimeout = 15 * 60_000;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepts(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The UI server comes up beside the frontend, not necessarily before the SDK sees the frontend answer. */
async function fetchWithRetry(url: string, timeoutMs = 15_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test(
  'time-skipping server: two days of server time pass in well under real time',
  { timeout: serverTimeout },
  async (t) => {
    const started = performance.now();
    const env = await startTimeSkippingServer();
    t.diagnostic(`time-skipping server up in ${Math.round(performance.now() - started)} ms`);
    try {
      assert.equal(env.supportsTimeSkipping, true);
      const info = await env.client.workflowService.getSystemInfo({});
      assert.ok(info.capabilities, 'GetSystemInfo answered');

      const twoDaysMs = 2 * 24 * 60 * 60 * 1000;
      const serverBefore = await env.currentTimeMs();
      const realBefore = performance.now();
      await env.sleep('2 days');
      const realMs = performance.now() - realBefore;
      const skippedMs = (await env.currentTimeMs()) - serverBefore;

      assert.ok(skippedMs >= twoDaysMs, `server clock moved ${skippedMs} ms, expected at least two days`);
      assert.ok(realMs < 10_000, `sleeping two days took ${Math.round(realMs)} ms of real time`);
    } finally {
      await env.teardown();
    }
    assert.equal(await accepts(env.address), false, 'teardown stopped the server');
  },
);

test('dev server: the frontend answers gRPC and the Web UI answers HTTP', { timeout: serverTimeout }, async (t) => {
  const port = await freePort();
  const uiPort = await freePort();
  const namespace = 'servers-test';
  const started = performance.now();
  const env = await startDevServer({ port, uiPort, namespace, ip: '127.0.0.1' });
  t.diagnostic(`dev server up in ${Math.round(performance.now() - started)} ms`);
  try {
    assert.equal(env.address, `127.0.0.1:${port}`);
    const info = await env.client.workflowService.getSystemInfo({});
    assert.match(info.serverVersion, /^\d+\.\d+/);
    const described = await env.client.workflowService.describeNamespace({ namespace });
    assert.equal(described.namespaceInfo?.name, namespace);

    const res = await fetchWithRetry(`http://127.0.0.1:${uiPort}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);

    // It runs with the cluster's dynamic config (deploy/temporal/dynamicconfig.yaml) as flags.
    assert.ok(
      serverCommandLines(port).some((args) => args.includes('history.transferProcessorMaxPollRPS=1000')),
      `a dev server on port ${port} with the transfer-queue read rate among its flags`,
    );
  } finally {
    await env.teardown();
  }
  assert.equal(await accepts(env.address), false, 'teardown stopped the server');
});

/** The command lines (argument lists) of this machine's processes that name the port. */
function serverCommandLines(port: number): string[][] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')];
      } catch {
        return []; // the process ended while we looked
      }
    })
    .filter((args) => args.includes(String(port)));
}

test('resolution: the environment variable wins, then the built copy, then the download', () => {
  assert.deepEqual(resolveDevServerExecutable({ TEMPORAL_CLI_PATH: process.execPath }).executable, {
    type: 'existing-path',
    path: process.execPath,
  });
  assert.equal(resolveTestServerExecutable({ TEMPORAL_TEST_SERVER_PATH: process.execPath }).source, 'env');

  // After the tests above, each server is either built locally or came from the SDK's download.
  for (const [resolved, built] of [
    [resolveDevServerExecutable({}), temporalLayout.cli],
    [resolveTestServerExecutable({}), temporalLayout.testServer],
  ] as const) {
    if (resolved.source === 'built') assert.deepEqual(resolved.executable, { type: 'existing-path', path: built });
    else assert.deepEqual(resolved.executable, { type: 'cached-download' });
  }
});

test('a bad TEMPORAL_CLI_PATH is one clear error, before anything starts', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-servers-test-'));
  const notExecutable = path.join(dir, 'temporal');
  writeFileSync(notExecutable, '#!/bin/sh\n');

  const cases: [string, RegExp][] = [
    [path.join(dir, 'missing'), /does not exist/],
    [notExecutable, /is not executable/],
    [dir, /is not a file/],
  ];
  for (const [value, problem] of cases) {
    assert.throws(
      () => resolveDevServerExecutable({ TEMPORAL_CLI_PATH: value }),
      (err: unknown) =>
        err instanceof TemporalServerUnavailableError &&
        err.message.startsWith(`TEMPORAL_CLI_PATH=${value} `) &&
        problem.test(err.message) &&
        err.message.includes('npm run setup:temporal'),
    );
  }

  // The starting helper fails the same way, without falling back to another server.
  await assert.rejects(
    startDevServer({ env: { ...process.env, TEMPORAL_CLI_PATH: path.join(dir, 'missing') } }),
    (err: unknown) =>
      err instanceof TemporalServerUnavailableError && /TEMPORAL_CLI_PATH=.*does not exist/.test(err.message),
  );
});

test('a machine without the toolchain is told what to install', async () => {
  const noTools = { PATH: mkdtempSync(path.join(os.tmpdir(), 'empty-path-')) };
  const cli = await missingTools('dev-server', noTools);
  assert.deepEqual(
    cli.map((m) => m.tool),
    ['go >= 1.21'],
  );
  assert.match(cli[0]!.install, /golang-go/);

  const testServer = await missingTools('time-skipping', noTools);
  assert.deepEqual(
    testServer.map((m) => [m.tool, m.install]),
    [
      ['java (>= 8)', 'apt-get install default-jre-headless'],
      ['mvn', 'apt-get install maven'],
    ],
  );
});
