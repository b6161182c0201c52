import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../src/config';
import { orderWorkflowId } from '../../src/temporal/names';
import { freePort } from '../../src/net/ports';
import type { OrderSagaState } from '../../src/workflows/definitions';
import { launchUntilReady } from '../support/launch-until-ready';
import { withTimeout } from '../support/timeout';
import { orderRequest, springfieldAddress } from '../support/sample-orders';

/**
 * The README's quick start, as a user runs it: `npm start` brings up the dev
 * server with its Web UI, four workers and the API; an order placed with curl
 * is confirmed and its run can be opened in the Web UI; Ctrl-C stops it all.
 */
test('npm start: an order placed over HTTP is confirmed, visible in the Web UI, and Ctrl-C stops cleanly', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'order-saga-quickstart-'));
  const [temporalPort, uiPort, apiPort, codecPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_DB_FILE: path.join(dataDir, 'temporal.db'),
    API_PORT: String(apiPort),
    CODEC_SERVER_PORT: String(codecPort),
    ORDERS_DATABASE_URL: `file:${path.join(dataDir, 'orders.db')}`,
    INVENTORY_DATABASE_URL: `file:${path.join(dataDir, 'inventory.db')}`,
    PAYMENTS_DATABASE_URL: `file:${path.join(dataDir, 'payments.db')}`,
    SHIPPING_DATABASE_URL: `file:${path.join(dataDir, 'shipping.db')}`,
    VIEWS_DATABASE_URL: `file:${path.join(dataDir, 'views.db')}`,
  };
  const { child: start, output, ready, exited } = launchUntilReady('tooling/start/main.ts', env, '[start] ready.');

  try {
    await withTimeout(ready, 180_000, () => `npm start was not ready in time:\n${output.join('\n')}`);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const placed = await fetch(`${apiUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Idempotency-Key': 'quickstart-1' },
      body: JSON.stringify(orderRequest({ customerId: 'cus_demo', address: springfieldAddress })),
    });
    // As the README shows: 201 once the order is accepted (order row created, stock reserved).
    assert.equal(placed.status, 201);
    const { orderId, state: accepted } = (await placed.json()) as { orderId: string; state: OrderSagaState };
    assert.deepEqual(accepted.completedSteps, ['create-order', 'reserve-stock']);

    let state: OrderSagaState | undefined;
    for (let tries = 0; tries < 100 && state?.status !== 'confirmed'; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = (await (await fetch(`${apiUrl}/orders/${orderId}`)).json()) as OrderSagaState;
    }
    assert.equal(state?.status, 'confirmed');

    // The workers' outbox relays carried the four services' events to the read model behind GET /orders.
    let listed: { orderId: string; status: string }[] = [];
    for (let tries = 0; tries < 100 && listed[0]?.status !== 'confirmed'; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const page = (await (await fetch(`${apiUrl}/orders?customerId=cus_demo`)).json()) as { orders: typeof listed };
      listed = page.orders.filter((order) => order.orderId === orderId);
    }
    assert.equal(listed[0]?.status, 'confirmed');

    const uiPage = await fetch(`http://127.0.0.1:${uiPort}/namespaces/default/workflows`);
    assert.equal(uiPage.status, 200);
    assert.match(await uiPage.text(), /<html/i);
    // The same endpoint the Web UI's page calls to show the run.
    const uiRun = await fetch(
      `http://127.0.0.1:${uiPort}/api/v1/namespaces/default/workflows/${orderWorkflowId(orderId)}`,
    );
    assert.equal(uiRun.status, 200);
    const run = (await uiRun.json()) as { workflowExecutionInfo?: { type?: { name?: string }; status?: string } };
    assert.equal(run.workflowExecutionInfo?.type?.name, 'orderSaga');
    assert.equal(run.workflowExecutionInfo?.status, 'WORKFLOW_EXECUTION_STATUS_COMPLETED');
  } finally {
    start.kill('SIGINT');
    const code = await withTimeout(exited, 60_000, () => `npm start did not stop after SIGINT:\n${output.join('\n')}`);
    rmSync(dataDir, { recursive: true, force: true });
    assert.equal(code, 0, output.join('\n'));
  }
  assert.equal(output.filter((line) => line.includes('worker stopped')).length, 4, 'every worker drained and stopped');
  assert.ok(output.some((line) => line.includes('api stopped')));
});

test('npm start refuses a TLS or API-key connection, which its plain-text dev server does not speak', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'order-saga-quickstart-'));
  try {
    const start = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'tooling/start/main.ts')], {
      cwd: projectRoot,
      env: {
        ...process.env,
        TEMPORAL_API_KEY: 'a-cloud-key',
        TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
        TEMPORAL_DB_FILE: path.join(dataDir, 'temporal.db'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    start.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    start.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => start.once('exit', resolve));
    assert.equal(code, 1, output);
    assert.match(output, /configured for TLS or an API key .* Set START_TEMPORAL_DEV_SERVER=false/);
    assert.doesNotMatch(output, /at .*\.ts:\d+/, 'a message, not a stack trace');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
