/**
 * Records the event histories of representative order runs into
 * tests/histories/<version>/, for tests/workflow/replay.test.ts to replay against the
 * current workflow code in CI:
 *
 *   npx tsx scripts/record-histories.ts v<next>
 *
 * The runs execute the real order workflow (the same bundle the orders worker
 * runs) on Temporal's time-skipping server, with the scripted services of the
 * workflow tests standing in for the four services: that is what makes every
 * path reachable in seconds, including a 24-hour approval timeout, a step that
 * runs out of retries and a compensation that waits for an operator. The
 * services' answers are all the workflow sees of them, so its history is the
 * one a real deployment writes for the same answers.
 *
 * A version's folder is written once: histories recorded before a workflow
 * change are the proof that runs started before it still replay, so the
 * script refuses to overwrite them (see docs/VERSIONING.md).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WithStartWorkflowOperation, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { format, resolveConfig } from 'prettier';
import { paymentTokens, soldOutSku, undeliverablePostalCode } from '../src/domain/failure-triggers';
import { rejectionTypes } from '../src/domain/rejections';
import { projectRoot } from '../src/project-root';
import { orderWorkflowId, orderWorkflowTaskQueue } from '../src/temporal/names';
import { orderIdFor } from '../src/temporal/order-ids';
import {
  cancelOrder,
  decideApproval,
  defaultOrderDeadlines,
  getOrderState,
  orderMemoFields,
  orderWorkflowType,
  placeOrder,
  resolveCompensation,
  type OrderSagaInput,
  type OrderStatus,
  type OrderStep,
} from '../src/workflows/definitions';
import type { orderSaga } from '../src/workflows/order-saga';
import { startScriptedSaga } from '../tests/support/scripted-saga';
import { ScriptedServices } from '../tests/support/scripted-services';

const historiesDir = path.join(projectRoot, 'tests', 'histories');

/** Stands for the placing request's body fingerprint, which the API computes (orderRequestFingerprint). */
const recordedFingerprint = 'sha256:recorded';

type OrderHandle = WorkflowHandle<typeof orderSaga>;

interface Scenario {
  /** The history's file name, without .json. */
  name: string;
  input?: Partial<OrderSagaInput>;
  script?: Parameters<ScriptedServices['script']>[1];
  /** Drives the run from outside (approve, cancel, resolve); its end is awaited after. */
  drive?: (handle: OrderHandle, env: TestWorkflowEnvironment) => Promise<void>;
}

/** One laptop: a total over the approval threshold. */
const overThreshold: Partial<OrderSagaInput> = { items: [{ sku: 'SKU-LAPTOP', quantity: 1 }] };
const undeliverable: Partial<OrderSagaInput> = {
  shippingAddress: {
    recipient: 'Ada Lovelace',
    line1: '12 Analytical Row',
    city: 'London',
    postalCode: undeliverablePostalCode,
    country: 'GB',
  },
};

/** A refund that fails until the operator steps in: the stuck compensation of the README. */
function stuckRefund(until?: () => boolean): Scenario['script'] {
  return {
    createShipment: { kind: 'reject', type: rejectionTypes.addressUndeliverable },
    refundPayment: { kind: 'failing', ...(until ? { until } : {}) },
  };
}

let refundFixed = false;
let confirmFixed = false;
let gatewayBack = false;

const scenarios: Scenario[] = [
  { name: 'happy-path' },
  {
    name: 'approval-then-confirmed',
    input: overThreshold,
    drive: async (handle) => {
      await waitForStatus(handle, 'awaiting-approval');
      await handle.executeUpdate(decideApproval, { args: [{ approved: true, decidedBy: 'ops@example.com' }] });
    },
  },
  // No decision: the 24-hour timer fires while the client waits for the result.
  { name: 'approval-timed-out', input: overThreshold },
  {
    name: 'cancelled-awaiting-approval',
    input: overThreshold,
    drive: async (handle) => {
      await waitForStatus(handle, 'awaiting-approval');
      await handle.executeUpdate(cancelOrder, { args: [{ reason: 'Customer changed their mind' }] });
    },
  },
  // Refused before acceptance: POST /orders answers 422 once the order row is compensated.
  {
    name: 'out-of-stock',
    input: { items: [{ sku: soldOutSku, quantity: 1 }] },
    script: { reserveStock: { kind: 'reject', type: rejectionTypes.outOfStock } },
  },
  {
    name: 'payment-declined',
    input: { paymentToken: paymentTokens.declined },
    script: { chargePayment: { kind: 'reject', type: rejectionTypes.paymentDeclined } },
  },
  {
    name: 'shipment-undeliverable-refunded',
    input: undeliverable,
    script: { createShipment: { kind: 'reject', type: rejectionTypes.addressUndeliverable } },
  },
  // Up to v4 the confirmation ran out of retries and the order was unwound; since v5 it waits until it succeeds.
  {
    name: 'confirm-out-of-retries',
    script: { confirmOrder: { kind: 'failing', until: () => confirmFixed } },
    drive: async (handle, env) => {
      await env.sleep('10m'); // several rounds of retries, past the old retry budget
      await waitForWaiting(handle, 'confirm-order');
      confirmFixed = true;
    },
  },
  {
    name: 'payment-waits-out-outage',
    script: { chargePayment: { kind: 'failing', until: () => gatewayBack } },
    drive: async (handle, env) => {
      await env.sleep('5m');
      await waitForWaiting(handle, 'charge-payment');
      gatewayBack = true;
    },
  },
  {
    name: 'shipment-past-deadline',
    input: { deadlines: { ...defaultOrderDeadlines, shipment: '10m' } },
    script: { createShipment: { kind: 'failing' } },
  },
  {
    name: 'refund-stuck-then-retried',
    input: { ...undeliverable, paymentToken: paymentTokens.refundRejected },
    script: stuckRefund(() => refundFixed),
    drive: async (handle, env) => {
      await env.sleep('1 hour'); // longer than the compensation's whole retry budget
      await waitForStatus(handle, 'needs-attention');
      refundFixed = true;
      await handle.executeUpdate(resolveCompensation, { args: [{ action: 'retry', note: 'issuer fixed' }] });
    },
  },
  {
    name: 'refund-stuck-then-resolved',
    input: { ...undeliverable, paymentToken: paymentTokens.refundRejected },
    script: stuckRefund(),
    drive: async (handle, env) => {
      await env.sleep('1 hour');
      await waitForStatus(handle, 'needs-attention');
      await handle.executeUpdate(resolveCompensation, {
        args: [{ action: 'mark-resolved', note: 'refunded by bank transfer, ticket 812' }],
      });
    },
  },
];

function orderInput(name: string, overrides: Partial<OrderSagaInput> = {}): OrderSagaInput {
  const customerId = overrides.customerId ?? 'cus_ada';
  return {
    orderId: orderIdFor(customerId, `history-${name}`),
    customerId,
    items: [{ sku: 'SKU-MUG', quantity: 2 }],
    paymentToken: paymentTokens.approved,
    shippingAddress: {
      recipient: 'Ada Lovelace',
      line1: '12 Analytical Row',
      city: 'London',
      postalCode: 'N1 9GU',
      country: 'GB',
    },
    approvalThresholdCents: 100_000,
    approvalTimeout: '24h',
    ...overrides,
  };
}

/** Polls in real time (no workflow timer advances meanwhile), for at most 15 s. */
async function waitForStatus(handle: OrderHandle, status: OrderStatus): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await handle.query(getOrderState);
    if (state.status === status) return;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} stayed ${state.status}, expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls until the run says it waits on `step`, for at most 15 s. */
async function waitForWaiting(handle: OrderHandle, step: OrderStep): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await handle.query(getOrderState);
    if (state.waiting?.step === step) return;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} never waited on ${step}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Wall-clock bound on one scenario; time-skipping makes each take a few seconds. */
const scenarioTimeoutMs = 60_000;

/** Waits for the run to close; failing is the expected end of most scenarios. */
async function closed(handle: OrderHandle): Promise<string> {
  try {
    return (await handle.result()).status;
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    return `failed with ${error.cause?.name ?? 'unknown'} (${error.cause?.message ?? ''})`;
  }
}

async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class UsageError extends Error {
  override name = 'UsageError';
}

async function recordHistories(version: string | undefined): Promise<void> {
  if (!version || !/^v\d+$/.test(version)) {
    throw new UsageError('usage: tsx scripts/record-histories.ts <version folder: v1, v2, …>');
  }
  const outDir = path.join(historiesDir, version);
  if (existsSync(outDir)) {
    throw new UsageError(
      `${path.relative(projectRoot, outDir)} exists: histories stay as they were recorded. ` +
        'Record the current code under a new version folder.',
    );
  }
  // Written aside and moved in place at the end, so a failed recording leaves no half set behind.
  const partialDir = `${outDir}.partial`;
  rmSync(partialDir, { recursive: true, force: true });
  mkdirSync(partialDir, { recursive: true });

  // startScriptedSaga installs the tests' quiet runtime (errors only): failed runs and the scripted outages are expected.
  const services = new ScriptedServices();
  const saga = await startScriptedSaga(services);
  const { env } = saga;
  try {
    for (const scenario of scenarios) {
      const input = orderInput(scenario.name, scenario.input);
      if (scenario.script) services.script(input.orderId, scenario.script);
      // Started as POST /orders starts a run by default: with its placeOrder update (update-with-start).
      const placementUpdateId = `placement-${scenario.name}`;
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof orderSaga>(orderWorkflowType, {
        workflowId: orderWorkflowId(input.orderId),
        taskQueue: orderWorkflowTaskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        memo: {
          [orderMemoFields.requestId]: `recorded-${scenario.name}`,
          [orderMemoFields.requestFingerprint]: recordedFingerprint,
          [orderMemoFields.placementUpdateId]: placementUpdateId,
          [orderMemoFields.customerId]: input.customerId,
        },
      });
      const outcome = await within(
        scenarioTimeoutMs,
        scenario.name,
        (async () => {
          await env.client.workflow.executeUpdateWithStart(placeOrder, {
            args: [{ requestFingerprint: recordedFingerprint }],
            startWorkflowOperation,
            updateId: placementUpdateId,
          });
          const handle = await startWorkflowOperation.workflowHandle();
          await scenario.drive?.(handle, env);
          return closed(handle);
        })(),
      );
      const file = path.join(partialDir, `${scenario.name}.json`);
      // Formatted as `npm run lint` wants it; only whitespace differs from historyToJSON's output.
      const json = historyToJSON(await (await startWorkflowOperation.workflowHandle()).fetchHistory());
      writeFileSync(file, await format(json, { ...(await resolveConfig(file)), filepath: file }));
      console.log(`${path.relative(projectRoot, path.join(outDir, scenario.name))}.json: ${outcome}`);
    }
  } finally {
    await saga.stop();
  }
  renameSync(partialDir, outDir);
}

recordHistories(process.argv[2]).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof UsageError ? error.message : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
