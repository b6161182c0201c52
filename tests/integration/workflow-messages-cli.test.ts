import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { rejectionTypes } from '../../src/domain/rejections';
import { createDataConverter } from '../../src/temporal/data-converter';
import { orderWorkflowId, orderWorkflowTaskQueue, serviceNames } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { freePort, resolveDevServerExecutable, startDevServer } from '../../tooling/temporal/servers';
import { bundleOrderWorkflow, createServiceWorker } from '../../src/workers/service-worker';
import {
  getOrderState,
  invalidOrderMessageType,
  orderMemoFields,
  orderMessageLimits,
  type OrderSagaInput,
  type OrderSagaState,
  type OrderStatus,
} from '../../src/workflows/definitions';
import type { orderSaga } from '../../src/workflows/order-saga';
import { startTestCodecServer, testPayloadEncryption, type TestCodecServer } from '../support/codec';
import { installQuietRuntime, quietLogger } from '../support/quiet-logger';
import { ScriptedServices } from '../support/scripted-services';
import { sagaInput, oneLaptop, twoMugs } from '../support/sample-orders';

/**
 * The order workflow's updates as the Temporal CLI sends them: plain JSON, past the API's validation. Every malformed
 * payload must be refused by the update's validator (the CLI says why, the history shows nothing) and the run must go
 * on: a valid message sent afterwards through the CLI still works.
 *
 * The workers encrypt as in production. Without a codec the CLI sends its input unencrypted, which the workers
 * accept (the codec passes unencrypted payloads through on decode): that is how the malformed payloads go here, and
 * their refusals are readable because failure messages are not payloads. A valid update's answer, though, comes back
 * encrypted, and the CLI then exits non-zero although the update was applied; with `--codec-endpoint` (the project's
 * codec server) it encrypts the input and decodes the answer. The valid messages go that way, as a user should send
 * them, and one test shows what happens without it.
 */

const { EventType } = proto.temporal.api.enums.v1;
const cli = resolveDevServerExecutable();
/** The CLI the dev server runs from; the SDK's cached download (no local build) leaves its path unknown here. */
const cliPath = cli.executable.type === 'existing-path' ? cli.executable.path : undefined;
const services = new ScriptedServices();
const encryption = testPayloadEncryption();
const dataConverter = createDataConverter(encryption);
let env: TestWorkflowEnvironment;
let address: string;
let workers: Worker[] = [];
let workersRunning: Promise<unknown> | undefined;
let codecServer: TestCodecServer | undefined;

interface CliResult {
  code: number;
  output: string;
}

/**
 * `temporal workflow update execute`, as a user would type it; `input` undefined sends no --input at all, and
 * `withCodec` adds `--codec-endpoint` with the project's codec server.
 */
function updateWithCli(workflowId: string, name: string, input?: string, withCodec = false): Promise<CliResult> {
  const args = ['workflow', 'update', 'execute', '--address', address, '--namespace', 'default'];
  args.push('--workflow-id', workflowId, '--name', name, ...(input === undefined ? [] : ['--input', input]));
  if (withCodec) args.push('--codec-endpoint', codecServer!.url);
  return new Promise((resolve) => {
    execFile(cliPath!, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

const newOrder = (items: OrderSagaInput['items']): OrderSagaInput => sagaInput('cli', { customerId: 'cus_cli', items });

/** One laptop: over the threshold, so the order waits for approval. */
const overThreshold = oneLaptop;
const belowThreshold = twoMugs;
const fingerprint = `sha256:${'ab'.repeat(32)}`;

async function start(input: OrderSagaInput): Promise<WorkflowHandle<typeof orderSaga>> {
  return env.client.workflow.start<typeof orderSaga>('orderSaga', {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue: orderWorkflowTaskQueue,
    args: [input],
    memo: { [orderMemoFields.requestFingerprint]: fingerprint },
  });
}

async function waitForStatus(handle: WorkflowHandle<typeof orderSaga>, status: OrderStatus): Promise<OrderSagaState> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await handle.query(getOrderState);
    if (state.status === status) return state;
    if (Date.now() > deadline) assert.fail(`order stayed ${state.status}, expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function failedWorkflowTasks(handle: WorkflowHandle): Promise<number> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).filter(({ eventType }) => eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length;
}

/** Payloads any update must refuse, whatever its fields. */
const shapeless: [label: string, input: string | undefined][] = [
  ['no input', undefined],
  ['{}', '{}'],
  ['null', 'null'],
  ['a string', '"cancel it"'],
  ['an array', '[]'],
];

const tooLong = (limit: number) => JSON.stringify('x'.repeat(limit + 1));

/**
 * Sends each payload with the CLI and checks that the validator refused it, that the history holds no failed
 * workflow task, and that the order is still where it was.
 */
async function assertAllRefused(
  handle: WorkflowHandle<typeof orderSaga>,
  name: string,
  payloads: [label: string, input: string | undefined][],
  status: OrderStatus,
): Promise<void> {
  const before = await handle.query(getOrderState);
  for (const [label, input] of payloads) {
    const { code, output } = await updateWithCli(handle.workflowId, name, input);
    assert.notEqual(code, 0, `${name} with ${label}: the CLI must fail`);
    assert.match(output, new RegExp(`Invalid ${name} message`), `${name} with ${label}: the validator's reason`);
    assert.match(output, new RegExp(`type: ${invalidOrderMessageType}, retryable: false`), `${name} with ${label}`);
    assert.doesNotMatch(output, /Workflow Task in failed state/, `${name} with ${label}`);
  }
  assert.equal(await failedWorkflowTasks(handle), 0, `${name}: no workflow task failed`);
  const after = await handle.query(getOrderState);
  assert.equal(after.status, status);
  assert.deepEqual(after, before, `${name}: the refused messages changed nothing`);
}

const skip = cliPath ? false : 'needs the Temporal CLI binary: npm run setup:temporal, or TEMPORAL_CLI_PATH';

describe(`updates sent with the Temporal CLI (${cli.description})`, { skip }, () => {
  before(async () => {
    installQuietRuntime();
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    env = await startDevServer({
      port,
      ip: '127.0.0.1',
      searchAttributes: orderSearchAttributes,
      client: { dataConverter },
    });
    const workflowBundle = await bundleOrderWorkflow(quietLogger);
    const activities = services.activities();
    workers = await Promise.all(
      serviceNames.map((service) =>
        createServiceWorker(service, activities[service], {
          connection: env.nativeConnection,
          namespace: env.namespace ?? 'default',
          workflowBundle,
          dataConverter,
        }),
      ),
    );
    workersRunning = Promise.all(workers.map((worker) => worker.run()));
    codecServer = await startTestCodecServer(encryption, { uiPort: await freePort() });
  });

  after(async () => {
    for (const worker of workers) worker.shutdown();
    await workersRunning;
    await env?.teardown();
    await codecServer?.close();
  });

  test('cancelOrder: malformed payloads are refused; a valid one cancels the order', async () => {
    const handle = await start(newOrder(overThreshold));
    await waitForStatus(handle, 'awaiting-approval');
    await assertAllRefused(
      handle,
      'cancelOrder',
      [
        ...shapeless,
        ['reason: a number', '{"reason":42}'],
        ['reason: blank', '{"reason":"   "}'],
        ['reason: too long', `{"reason":${tooLong(orderMessageLimits.cancellationReason)}}`],
      ],
      'awaiting-approval',
    );

    // Without the codec the update is applied, but the CLI cannot read the (encrypted) answer and exits non-zero.
    const { code, output } = await updateWithCli(handle.workflowId, 'cancelOrder', '{"reason":"Changed my mind"}');
    assert.notEqual(code, 0);
    assert.match(output, /encoding binary\/encrypted: payload encoding is not supported/);
    const state = await waitForStatus(handle, 'cancelled');
    assert.equal(state.cancellationReason, 'Changed my mind');
    assert.deepEqual(
      state.compensations.map(({ compensation, status }) => [compensation, status]),
      [
        ['release-stock', 'completed'],
        ['cancel-order', 'completed'],
      ],
    );
    assert.equal(await failedWorkflowTasks(handle), 0);
  });

  test('decideApproval: malformed payloads are refused; a valid approval confirms the order', async () => {
    const handle = await start(newOrder(overThreshold));
    await waitForStatus(handle, 'awaiting-approval');
    await assertAllRefused(
      handle,
      'decideApproval',
      [
        ...shapeless,
        ['no decidedBy', '{"approved":false}'],
        ['approved: a string', '{"approved":"yes","decidedBy":"ops"}'],
        ['decidedBy: a number', '{"approved":true,"decidedBy":7}'],
        ['decidedBy: blank', '{"approved":true,"decidedBy":""}'],
        ['decidedBy: too long', `{"approved":true,"decidedBy":${tooLong(orderMessageLimits.decidedBy)}}`],
        ['comment: a number', '{"approved":true,"decidedBy":"ops","comment":1}'],
        [
          'comment: too long',
          `{"approved":true,"decidedBy":"ops","comment":${tooLong(orderMessageLimits.approvalComment)}}`,
        ],
      ],
      'awaiting-approval',
    );

    const { code, output } = await updateWithCli(
      handle.workflowId,
      'decideApproval',
      '{"approved":true,"decidedBy":"ops@example.com","comment":"Known customer"}',
      true,
    );
    assert.equal(code, 0, output);
    const state = await handle.result();
    assert.equal(state.status, 'confirmed');
    assert.ok(state.completedSteps.includes('await-approval'));
    assert.equal(await failedWorkflowTasks(handle), 0);
  });

  test('resolveCompensation: malformed payloads are refused; a valid one resolves the stuck compensation', async () => {
    const input = newOrder(belowThreshold);
    services.script(input.orderId, {
      chargePayment: { kind: 'reject', type: rejectionTypes.paymentDeclined },
      releaseStock: { kind: 'reject', type: 'WarehouseOffline' },
    });
    const handle = await start(input);
    await waitForStatus(handle, 'needs-attention');
    await assertAllRefused(
      handle,
      'resolveCompensation',
      [
        ...shapeless,
        ['no note', '{"action":"retry"}'],
        ['action: unknown', '{"action":"skip","note":"n"}'],
        ['action: a number', '{"action":1,"note":"n"}'],
        ['note: an object', '{"action":"retry","note":{}}'],
        ['note: blank', '{"action":"retry","note":" "}'],
        ['note: too long', `{"action":"mark-resolved","note":${tooLong(orderMessageLimits.operatorNote)}}`],
      ],
      'needs-attention',
    );

    const { code, output } = await updateWithCli(
      handle.workflowId,
      'resolveCompensation',
      '{"action":"mark-resolved","note":"Released by hand in the warehouse"}',
      true,
    );
    assert.equal(code, 0, output);
    const state = await waitForStatus(handle, 'failed');
    assert.deepEqual(
      state.compensations.map(({ compensation, status, operatorNote }) => [compensation, status, operatorNote]),
      [
        ['release-stock', 'resolved-manually', 'Released by hand in the warehouse'],
        ['cancel-order', 'completed', undefined],
      ],
    );
    assert.equal(await failedWorkflowTasks(handle), 0);
  });

  test('placeOrder: malformed payloads are refused; the original placement is answered', async () => {
    const handle = await start(newOrder(overThreshold));
    await waitForStatus(handle, 'awaiting-approval');
    await assertAllRefused(
      handle,
      'placeOrder',
      [
        ...shapeless,
        ['requestFingerprint: a number', '{"requestFingerprint":42}'],
        ['requestFingerprint: blank', '{"requestFingerprint":""}'],
        ['requestFingerprint: too long', `{"requestFingerprint":${tooLong(orderMessageLimits.requestFingerprint)}}`],
      ],
      'awaiting-approval',
    );

    // Another body under the same key is still refused for what it is.
    const reused = await updateWithCli(
      handle.workflowId,
      'placeOrder',
      `{"requestFingerprint":"sha256:${'cd'.repeat(32)}"}`,
    );
    assert.notEqual(reused.code, 0);
    assert.match(reused.output, /placed with another request body/);

    const { code, output } = await updateWithCli(
      handle.workflowId,
      'placeOrder',
      JSON.stringify({ requestFingerprint: fingerprint }),
      true,
    );
    assert.equal(code, 0, output);
    assert.equal(await failedWorkflowTasks(handle), 0);
    assert.equal((await handle.query(getOrderState)).status, 'awaiting-approval');
  });
});
