import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { hashApiKey } from '../../src/api/auth';
import { defaultUiUrl } from '../../tooling/cli/options';
import { projectRoot } from '../../src/project-root';
import { rejectionTypes } from '../../src/domain/rejections';
import { orderWorkflowId } from '../../src/temporal/names';
import { freePort } from '../../src/net/ports';
import { orderSteps, type OrderSagaState } from '../../src/workflows/definitions';
import { runScript } from '../support/run-script';
import { approvalThresholdCents, startStack, type Stack } from '../support/stack';

/**
 * The terminal client (`npm run order`) as a person runs it: a child process
 * against the real stack, its output read line by line.
 */

const cli = path.join(projectRoot, 'tooling', 'cli', 'order.ts');

interface CliRun {
  code: number | null;
  stdout: string[];
  stderr: string[];
}

async function runCli(args: string[], timeoutMs = 45_000, env: Record<string, string> = {}): Promise<CliRun> {
  const run = await runScript(cli, args, {
    env: { NO_COLOR: '1', ORDER_API_URL: undefined, ORDER_API_KEY: undefined, ...env },
    timeoutMs,
  });
  const lines = (text: string) => text.split('\n').filter((line) => line !== '');
  return { code: run.code, stdout: lines(run.stdout), stderr: lines(run.stderr) };
}

/** The live lines: elapsed time, a label, what happened. */
const liveLine = /^ *\+\d+\.\d\ds {2}(\S+(?: \S+)?) +(.*)$/;

function liveLines(run: CliRun, label: string): string[] {
  return run.stdout.flatMap((line) => {
    const match = liveLine.exec(line);
    return match?.[1] === label ? [match[2]!] : [];
  });
}

function placedOrderId(run: CliRun): string {
  const [placed] = liveLines(run, 'placed');
  const orderId = /^order (ord_[0-9a-f]{24}), workflow (\S+)$/.exec(placed ?? '');
  assert.ok(orderId, `no placed line in:\n${run.stdout.join('\n')}`);
  assert.equal(orderId[2], orderWorkflowId(orderId[1]!));
  return orderId[1]!;
}

describe('npm run order: the terminal client', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack('sqlite');
  });

  after(async () => {
    await stack?.stop();
  });

  async function stateOf(orderId: string): Promise<OrderSagaState> {
    const response = await fetch(`${stack.baseUrl}/orders/${orderId}`);
    assert.equal(response.status, 200);
    return (await response.json()) as OrderSagaState;
  }

  test('happy: every step completes in order, then confirmed with the Web UI link', async () => {
    const run = await runCli(['happy', '--api', stack.baseUrl]);
    const output = run.stdout.join('\n');
    assert.equal(run.code, 0, `${output}\n${run.stderr.join('\n')}`);
    assert.deepEqual(run.stderr, []);
    const orderId = placedOrderId(run);

    const completed = liveLines(run, 'step').flatMap((line) => /^(\S+) completed$/.exec(line)?.[1] ?? []);
    assert.deepEqual(
      completed,
      orderSteps.filter((step) => step !== 'await-approval'),
    );
    assert.match(liveLines(run, 'status').at(-1) ?? '', /→ confirmed$/);
    assert.deepEqual(liveLines(run, 'total'), ['$24.00']);
    assert.match(liveLines(run, 'shipping rate')[0] ?? '', /^\$\d+\.\d\d \((carrier quote|flat rate)/);
    assert.deepEqual(run.stdout.slice(-4, -2), ['Final: confirmed', 'Total: $24.00']);
    assert.equal(run.stdout.at(-1), `Web UI: ${defaultUiUrl}/namespaces/default/workflows/${orderWorkflowId(orderId)}`);
    assert.equal((await stateOf(orderId)).status, 'confirmed');
  });

  test('undeliverable-address: the compensations complete in reverse, then failed with the reason', async () => {
    const run = await runCli(['undeliverable-address', '--api', stack.baseUrl, '--ui', 'http://ui.example:8080']);
    const output = run.stdout.join('\n');
    assert.equal(run.code, 0, `${output}\n${run.stderr.join('\n')}`);
    const orderId = placedOrderId(run);

    assert.match(
      liveLines(run, 'failure')[0] ?? '',
      new RegExp(`^${rejectionTypes.addressUndeliverable} at create-shipment: `),
    );
    assert.deepEqual(liveLines(run, 'compensate'), ['in this order: refund-payment → release-stock → cancel-order']);
    const completed = liveLines(run, 'compensation').flatMap(
      (line) => /^(\S+) completed \(run 1\)$/.exec(line)?.[1] ?? [],
    );
    assert.deepEqual(completed, ['refund-payment', 'release-stock', 'cancel-order']);
    assert.match(liveLines(run, 'status').at(-1) ?? '', /→ failed$/);
    assert.ok(
      run.stdout.includes(
        `Final: failed — ${rejectionTypes.addressUndeliverable} at create-shipment: Parcelwise does not deliver to postal code 00000`,
      ),
      output,
    );
    assert.equal(
      run.stdout.at(-1),
      `Web UI: http://ui.example:8080/namespaces/default/workflows/${orderWorkflowId(orderId)}`,
    );
    const state = await stateOf(orderId);
    assert.equal(state.status, 'failed');
    assert.deepEqual(
      state.compensations.map(({ compensation, status }) => [compensation, status]),
      [
        ['refund-payment', 'completed'],
        ['release-stock', 'completed'],
        ['cancel-order', 'completed'],
      ],
    );
  });

  test('refund-rejected: stops at needs-attention and prints how an operator resolves it', async () => {
    const run = await runCli(['refund-rejected', '--api', stack.baseUrl]);
    assert.equal(run.code, 0, run.stdout.join('\n'));
    const orderId = placedOrderId(run);
    assert.match(
      liveLines(run, 'compensation').at(-1) ?? '',
      /^refund-payment failed \(run 1; last error: .*rejected the refund/,
    );
    assert.ok(run.stdout.includes('Stopped following: the order is needs-attention, waiting for a person.'));
    assert.ok(
      run.stdout.some(
        (line) =>
          line.includes(`curl -X POST ${stack.baseUrl}/orders/${orderId}/compensation`) &&
          line.includes('mark-resolved'),
      ),
    );
    assert.equal((await stateOf(orderId)).status, 'needs-attention');
  });

  test('--timeout: exit 1 (failed) when the order does not get there in time', async () => {
    const run = await runCli(['needs-approval', '--wait', '--timeout', '1', '--api', stack.baseUrl]);
    assert.equal(run.code, 1, run.stdout.join('\n'));
    assert.equal(run.stderr.length, 1);
    assert.match(
      run.stderr[0]!,
      /^Gave up following after 1 s: order ord_\w+ is (running|awaiting-approval); it goes on in Temporal: /,
    );
  });

  test('an unknown scenario: exit 2 (usage) with one line naming the scenarios, no stack trace', async () => {
    const run = await runCli(['no-such-scenario', '--api', stack.baseUrl]);
    assert.equal(run.code, 2);
    assert.deepEqual(run.stdout, []);
    assert.equal(run.stderr.length, 1, run.stderr.join('\n'));
    assert.match(run.stderr[0]!, /^order: unknown scenario 'no-such-scenario'; choose one of: happy, declined-card, /);
  });

  test('an API that wants keys: --api-key or ORDER_API_KEY gets the order through, none gets exit 1', async () => {
    const customerKey = 'cli-customer-secret';
    const app = createApp({
      client: stack.temporal.client,
      logger: pino({ level: 'silent' }),
      approval: { thresholdCents: approvalThresholdCents, timeout: '24h' },
      readinessChecks: [],
      protection: {
        // The happy scenario orders for cus_ada; a customer key acts for its own customer only.
        auth: { mode: 'required', keys: [{ name: 'cus_ada', role: 'customer', sha256: hashApiKey(customerKey) }] },
        rateLimitPerMinute: 10_000,
      },
    });
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const withFlag = await runCli(['happy', '--api', api, '--api-key', customerKey]);
      assert.equal(withFlag.code, 0, [...withFlag.stdout, ...withFlag.stderr].join('\n'));
      assert.equal((await stateOf(placedOrderId(withFlag))).status, 'confirmed');
      const fromEnv = await runCli(['happy', '--api', api], 45_000, { ORDER_API_KEY: customerKey });
      assert.equal(fromEnv.code, 0, [...fromEnv.stdout, ...fromEnv.stderr].join('\n'));
      const without = await runCli(['happy', '--api', api]);
      assert.equal(without.code, 1);
      assert.equal(without.stderr.length, 1, without.stderr.join('\n'));
      assert.match(without.stderr[0]!, /401/);
      assert.ok(!without.stdout.some((line) => liveLine.test(line)), 'nothing was placed');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('an unreachable API: exit 1 with one clear line', async () => {
    const port = await freePort();
    const run = await runCli(['happy', '--api', `http://127.0.0.1:${port}`]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.length, 1, run.stderr.join('\n'));
    assert.match(
      run.stderr[0]!,
      new RegExp(`^order: cannot reach the API at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); `),
    );
    assert.ok(!run.stdout.some((line) => liveLine.test(line)), 'nothing was placed');
  });
});
