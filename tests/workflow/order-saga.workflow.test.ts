import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { rejectionTypes } from '../../src/domain/rejections';
import { orderWorkflowId, orderWorkflowTaskQueue } from '../../src/temporal/names';
import {
  needsAttentionAttribute,
  orderTotalAttribute,
  orderWaitingOnAttribute,
} from '../../src/temporal/search-attributes';
import {
  cancelOrder,
  decideApproval,
  defaultOrderDeadlines,
  getOrderAcceptance,
  getOrderState,
  idempotencyKeyReusedType,
  orderFailureTypes,
  orderMemoFields,
  placeOrder,
  resolveCompensation,
  type OrderSagaInput,
  type OrderSagaState,
} from '../../src/workflows/definitions';
import type { orderSaga } from '../../src/workflows/order-saga';
import { startScriptedSaga, type ScriptedSaga } from '../support/scripted-saga';
import { ScriptedServices, type ActivityName } from '../support/scripted-services';
import { outcome, waitForStatus } from '../support/saga-run';
import { sagaInput } from '../support/sample-orders';

const services = new ScriptedServices();
let saga: ScriptedSaga;
let env: TestWorkflowEnvironment;

before(async () => {
  saga = await startScriptedSaga(services);
  env = saga.env;
});

after(async () => {
  await saga?.stop();
});

const newOrder = (overrides: Partial<OrderSagaInput> = {}): OrderSagaInput => sagaInput('wf', overrides);

/** An order whose total (one laptop) is above the approval threshold. */
const needsApproval = { items: [{ sku: 'SKU-LAPTOP', quantity: 1 }] };

function start(input: OrderSagaInput): Promise<WorkflowHandle<typeof orderSaga>> {
  return env.client.workflow.start<typeof orderSaga>('orderSaga', {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue: orderWorkflowTaskQueue,
    args: [input],
  });
}

/** Polls the query in real time until `reached`: no timer in the run advances meanwhile. */
async function waitFor(
  handle: WorkflowHandle<typeof orderSaga>,
  reached: (state: OrderSagaState) => boolean,
): Promise<OrderSagaState> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await handle.query(getOrderState);
    if (reached(state)) return state;
    if (Date.now() > deadline) assert.fail(`order never reached the expected state: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const forwardSteps: ActivityName[] = [
  'createOrder',
  'reserveStock',
  'chargePayment',
  'createShipment',
  'commitReservation',
  'confirmOrder',
];

/** The activities the run's history records, in order: activity tasks, and local activities (their markers). */
interface ActivityRun {
  type: string;
  local: boolean;
  summary: string | undefined;
}

async function activitiesRun(handle: WorkflowHandle<typeof orderSaga>): Promise<ActivityRun[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).flatMap<ActivityRun>(
    ({ activityTaskScheduledEventAttributes: scheduled, markerRecordedEventAttributes: marker, userMetadata }) => {
      const summary = userMetadata?.summary
        ? defaultPayloadConverter.fromPayload<string>(userMetadata.summary)
        : undefined;
      if (scheduled?.activityType?.name) return [{ type: scheduled.activityType.name, local: false, summary }];
      const data = marker?.markerName === 'core_local_activity' ? marker.details?.['data']?.payloads?.[0] : undefined;
      if (!data) return [];
      const { activity_type: type } = defaultPayloadConverter.fromPayload<{ activity_type: string }>(data);
      return [{ type, local: true, summary }];
    },
  );
}

describe('order saga (time-skipping server)', () => {
  test('the happy path runs every step once and confirms the order', async () => {
    const input = newOrder();
    const { state, type } = await outcome(await start(input));
    assert.equal(type, undefined);
    assert.equal(state.status, 'confirmed');
    assert.deepEqual(services.completed(input.orderId), forwardSteps);
    assert.deepEqual(state.completedSteps, [
      'create-order',
      'reserve-stock',
      'charge-payment',
      'create-shipment',
      'confirm-order',
    ]);
    assert.deepEqual(state.compensations, []);
    assert.equal(state.totalCents, 2_400);
    assert.equal(state.paymentId, `pay_${input.orderId}`);
    assert.equal(state.shipmentId, `shp_${input.orderId}`);
  });

  test("the orders service's steps run in the workflow's worker: local activities, the others activity tasks", async () => {
    const input = newOrder();
    const handle = await start(input);
    const { state } = await outcome(handle);
    assert.equal(state.status, 'confirmed');
    assert.deepEqual(
      (await activitiesRun(handle)).map(({ type, local }) => [type, local ? 'local' : 'task']),
      [
        ['createOrder', 'local'],
        ['reserveStock', 'task'],
        ['chargePayment', 'task'],
        ['createShipment', 'task'],
        ['commitReservation', 'task'],
        ['confirmOrder', 'local'],
      ],
    );
    assert.deepEqual(services.completed(input.orderId), forwardSteps);
  });

  test("an order refused at reserve-stock cancels its order row in the workflow's worker too", async () => {
    const input = newOrder();
    services.script(input.orderId, { reserveStock: { kind: 'reject', type: rejectionTypes.outOfStock } });
    const handle = await start(input);
    const { state, type } = await outcome(handle);
    assert.equal(type, orderFailureTypes.failed);
    assert.equal(state.failure?.type, rejectionTypes.outOfStock);
    assert.deepEqual(
      (await activitiesRun(handle)).map(({ type: activity, local }) => [activity, local ? 'local' : 'task']),
      [
        ['createOrder', 'local'],
        ['reserveStock', 'task'],
        ['cancelOrder', 'local'],
      ],
    );
    assert.deepEqual(
      state.compensations.map(({ compensation, status }) => [compensation, status]),
      [['cancel-order', 'completed']],
    );
  });

  test('the Web UI reads the run: each activity has a summary, and the total is searchable', async () => {
    // The shipment is refused after the charge, so the refund names the payment it returns.
    const input = newOrder({
      items: [{ sku: 'SKU-MUG', quantity: 2 }],
      shippingAddress: { ...newOrder().shippingAddress, country: 'GB' },
    });
    services.script(input.orderId, { createShipment: { kind: 'reject', type: rejectionTypes.addressUndeliverable } });
    const handle = await start(input);
    await outcome(handle);
    const summaries = (await activitiesRun(handle)).map(({ type, summary }) => [type, summary]);
    assert.deepEqual(summaries, [
      ['createOrder', `Create order ${input.orderId}: 2 item(s) for customer cus_42`],
      ['reserveStock', 'Reserve 2 × SKU-MUG'],
      ['chargePayment', 'Charge $24.00'],
      ['createShipment', 'Ship 2 item(s) to GB'],
      ['refundPayment', `Refund $24.00 (payment pay_${input.orderId})`],
      ['releaseStock', 'Release the stock of 2 × SKU-MUG'],
      ['cancelOrder', `Cancel order ${input.orderId}: createShipment rejected by script`],
    ]);
    const { typedSearchAttributes } = await handle.describe();
    assert.equal(typedSearchAttributes.get(orderTotalAttribute), 24);
  });

  const failures: {
    name: string;
    input?: Partial<OrderSagaInput>;
    script: Parameters<ScriptedServices['script']>[1];
    step: string;
    type: string;
    /** The steps that succeeded before the failure. */
    before: ActivityName[];
    compensations: ActivityName[];
  }[] = [
    {
      name: 'create-order rejected: nothing to compensate',
      script: { createOrder: { kind: 'reject', type: rejectionTypes.customerBlocked } },
      step: 'create-order',
      type: rejectionTypes.customerBlocked,
      before: [],
      compensations: [],
    },
    {
      name: 'reserve-stock rejected: the order is cancelled',
      script: { reserveStock: { kind: 'reject', type: rejectionTypes.outOfStock } },
      step: 'reserve-stock',
      type: rejectionTypes.outOfStock,
      before: ['createOrder'],
      compensations: ['cancelOrder'],
    },
    {
      name: 'charge-payment declined: stock released, order cancelled',
      script: { chargePayment: { kind: 'reject', type: rejectionTypes.paymentDeclined } },
      step: 'charge-payment',
      type: rejectionTypes.paymentDeclined,
      before: ['createOrder', 'reserveStock'],
      compensations: ['releaseStock', 'cancelOrder'],
    },
    {
      name: 'create-shipment rejected: refund, release, cancel',
      script: { createShipment: { kind: 'reject', type: rejectionTypes.addressUndeliverable } },
      step: 'create-shipment',
      type: rejectionTypes.addressUndeliverable,
      before: ['createOrder', 'reserveStock', 'chargePayment'],
      compensations: ['refundPayment', 'releaseStock', 'cancelOrder'],
    },
    {
      // create-order's first round is a local activity, its later rounds activity tasks: the deadline stops the step
      // all the same, and the order row it may have written is cancelled.
      name: 'create-order past its deadline: the order row it may have written is cancelled',
      input: { deadlines: { ...defaultOrderDeadlines, acceptance: '10m' } },
      script: { createOrder: { kind: 'failing' } },
      step: 'create-order',
      type: orderFailureTypes.deadlineExceeded,
      before: [],
      compensations: ['cancelOrder'],
    },
    {
      name: 'create-shipment past its deadline: its own unknown outcome is compensated first',
      input: { deadlines: { ...defaultOrderDeadlines, shipment: '10m' } },
      script: { createShipment: { kind: 'failing' } },
      step: 'create-shipment',
      type: orderFailureTypes.deadlineExceeded,
      before: ['createOrder', 'reserveStock', 'chargePayment'],
      compensations: ['cancelShipment', 'refundPayment', 'releaseStock', 'cancelOrder'],
    },
    {
      name: 'charge-payment past its deadline: a charge that may have happened is refunded',
      input: { deadlines: { ...defaultOrderDeadlines, payment: '15m' } },
      script: { chargePayment: { kind: 'failing' } },
      step: 'charge-payment',
      type: orderFailureTypes.deadlineExceeded,
      before: ['createOrder', 'reserveStock'],
      compensations: ['refundPayment', 'releaseStock', 'cancelOrder'],
    },
    {
      name: 'commit-reservation refused (the stock was released): the order is never confirmed',
      script: { commitReservation: { kind: 'reject', type: rejectionTypes.stepAlreadyCompensated } },
      step: 'confirm-order',
      type: rejectionTypes.stepAlreadyCompensated,
      before: ['createOrder', 'reserveStock', 'chargePayment', 'createShipment'],
      compensations: ['cancelShipment', 'refundPayment', 'releaseStock', 'cancelOrder'],
    },
  ];

  for (const failure of failures) {
    test(`failure at ${failure.name}`, async () => {
      const input = newOrder(failure.input);
      services.script(input.orderId, failure.script);
      const { state, type } = await outcome(await start(input));
      assert.equal(type, orderFailureTypes.failed);
      assert.equal(state.status, 'failed');
      assert.equal(state.failure?.step, failure.step);
      assert.equal(state.failure?.type, failure.type);
      assert.deepEqual(services.completed(input.orderId), [...failure.before, ...failure.compensations]);
      assert.deepEqual(
        state.compensations.map((record) => [record.compensation, record.status, record.runs]),
        failure.compensations.map((name) => [compensationOf[name], 'completed', 1]),
      );
    });
  }

  test('a gateway outage longer than a round of retries delays the order, visibly, and it confirms', async () => {
    const input = newOrder();
    let gatewayBack = false;
    services.script(input.orderId, { chargePayment: { kind: 'failing', until: () => gatewayBack } });
    const handle = await start(input);
    await env.sleep('5m'); // several rounds of retries: longer than the whole retry budget steps had before
    const waiting = await waitFor(handle, (state) => state.waiting !== null);
    assert.equal(waiting.status, 'running');
    assert.equal(waiting.currentStep, 'charge-payment');
    assert.equal(waiting.waiting?.step, 'charge-payment');
    assert.match(waiting.waiting?.reason ?? '', /chargePayment failed transiently/);
    assert.ok(waiting.waiting?.deadline, 'the payment deadline is shown');
    assert.equal((await handle.describe()).typedSearchAttributes.get(orderWaitingOnAttribute), 'charge-payment');

    gatewayBack = true;
    const { state, type } = await outcome(handle);
    assert.equal(type, undefined);
    assert.equal(state.status, 'confirmed');
    assert.equal(state.waiting, null);
    assert.deepEqual(services.completed(input.orderId), forwardSteps, 'nothing was compensated');
    assert.equal((await handle.describe()).typedSearchAttributes.get(orderWaitingOnAttribute), undefined);
  });

  test('the confirmation is the point of no return: it waits out trouble for as long as it lasts, never unwound', async () => {
    const input = newOrder();
    let ordersDbBack = false;
    services.script(input.orderId, { confirmOrder: { kind: 'failing', until: () => ordersDbBack } });
    const handle = await start(input);
    await env.sleep('3h'); // far past any step deadline
    const waiting = await waitFor(handle, (state) => (state.waiting?.rounds ?? 0) >= 5);
    assert.equal(waiting.waiting?.step, 'confirm-order');
    assert.equal(waiting.waiting?.deadline, null, 'the confirmation has no deadline');
    assert.deepEqual(waiting.compensations, []);
    assert.equal((await handle.describe()).typedSearchAttributes.get(orderWaitingOnAttribute), 'confirm-order');
    await assert.rejects(
      handle.executeUpdate(cancelOrder, { args: [{ reason: 'changed my mind' }] }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError && /being confirmed/.test(error.cause?.message ?? ''),
    );

    ordersDbBack = true;
    const { state, type } = await outcome(handle);
    assert.equal(type, undefined);
    assert.equal(state.status, 'confirmed');
    assert.deepEqual(services.completed(input.orderId), forwardSteps, 'no compensation ran');
  });

  test('a service with no worker: the order says it waits for one, and goes on when a worker comes back', async () => {
    // The time-skipping server does not skip time while a task waits for a worker: a short limit keeps this quick.
    const input = newOrder({ workerWaitLimit: '2s' });
    const restartShipping = await saga.stopWorker('shipping');
    let restarted = false;
    try {
      const handle = await start(input);
      await env.sleep('5s'); // past the time a task may sit in its queue before the order says so
      const waiting = await waitFor(handle, (state) => state.waiting?.step === 'create-shipment');
      assert.match(waiting.waiting?.reason ?? '', /no worker took createShipment from its task queue within 2s/);
      assert.equal((await handle.describe()).typedSearchAttributes.get(orderWaitingOnAttribute), 'create-shipment');
      assert.deepEqual(services.calls(input.orderId, 'createShipment'), [], 'no worker ran it meanwhile');

      await restartShipping();
      restarted = true;
      const { state, type } = await outcome(handle);
      assert.equal(type, undefined);
      assert.equal(state.status, 'confirmed');
      assert.deepEqual(services.completed(input.orderId), forwardSteps);
    } finally {
      if (!restarted) await restartShipping();
    }
  });

  test('a cancellation while a step waits takes effect at the end of the round, and unwinds the unknown step', async () => {
    const input = newOrder();
    services.script(input.orderId, { chargePayment: { kind: 'failing' } });
    const handle = await start(input);
    await env.sleep('1m');
    await waitFor(handle, (state) => state.waiting?.step === 'charge-payment');
    const cancelled = handle.executeUpdate(cancelOrder, { args: [{ reason: 'the customer gave up waiting' }] });
    const { state, type } = await outcome(handle);
    assert.equal(type, orderFailureTypes.cancelled);
    assert.equal(state.status, 'cancelled');
    assert.equal((await cancelled).status, 'cancelled');
    assert.deepEqual(
      state.compensations.map(({ compensation, status }) => [compensation, status]),
      [
        ['refund-payment', 'completed'],
        ['release-stock', 'completed'],
        ['cancel-order', 'completed'],
      ],
    );
  });

  test('a transient payment failure is retried to success', async () => {
    const input = newOrder();
    services.script(input.orderId, { chargePayment: { kind: 'transient', attempts: 2 } });
    const { state } = await outcome(await start(input));
    assert.equal(state.status, 'confirmed');
    assert.deepEqual(
      services.calls(input.orderId, 'chargePayment').map((call) => [call.attempt, call.outcome]),
      [
        [1, 'error'],
        [2, 'error'],
        [3, 'ok'],
      ],
    );
  });

  test('an order over the threshold waits for approval, then completes', async () => {
    const input = newOrder(needsApproval);
    const handle = await start(input);
    const waiting = await waitForStatus(handle, 'awaiting-approval');
    assert.deepEqual(services.completed(input.orderId), ['createOrder', 'reserveStock']);
    assert.equal(waiting.totalCents, 149_900);
    await handle.executeUpdate(decideApproval, { args: [{ approved: true, decidedBy: 'ops@example.com' }] });
    const { state } = await outcome(handle);
    assert.equal(state.status, 'confirmed');
    assert.ok(state.completedSteps.includes('await-approval'));
  });

  test('a rejected approval compensates the reservation and the order', async () => {
    const input = newOrder(needsApproval);
    const handle = await start(input);
    await waitForStatus(handle, 'awaiting-approval');
    await handle.executeUpdate(decideApproval, {
      args: [{ approved: false, decidedBy: 'ops', comment: 'fraud check' }],
    });
    const { state, type } = await outcome(handle);
    assert.equal(type, orderFailureTypes.failed);
    assert.equal(state.failure?.type, orderFailureTypes.approvalRejected);
    assert.equal(state.failure?.message, 'Rejected by ops: fraud check');
    assert.deepEqual(services.completed(input.orderId), ['createOrder', 'reserveStock', 'releaseStock', 'cancelOrder']);
  });

  test('no decision within 24 hours rejects the order: a day passes in seconds', async () => {
    const input = newOrder(needsApproval);
    const handle = await start(input);
    await waitForStatus(handle, 'awaiting-approval');
    const startedAt = Date.now();
    const { state } = await outcome(handle);
    const elapsedMs = Date.now() - startedAt;
    assert.equal(state.failure?.type, orderFailureTypes.approvalTimedOut);
    assert.deepEqual(services.completed(input.orderId), ['createOrder', 'reserveStock', 'releaseStock', 'cancelOrder']);
    const description = await handle.describe();
    const simulatedMs = (description.closeTime?.getTime() ?? 0) - description.startTime.getTime();
    assert.ok(simulatedMs >= 24 * 3600_000, `the run's own clock passed 24 h (it shows ${simulatedMs} ms)`);
    console.log(`  approval timeout: 24 h of workflow time in ${elapsedMs} ms of wall time`);
  });

  test('cancel before shipment: the update answers once the saga has unwound, naming what was undone', async () => {
    const input = newOrder(needsApproval);
    const handle = await start(input);
    await waitForStatus(handle, 'awaiting-approval');
    const answer = await handle.executeUpdate(cancelOrder, { args: [{ reason: 'Customer changed their mind' }] });
    assert.equal(answer.cancellationReason, 'Customer changed their mind');
    assert.equal(answer.status, 'cancelled');
    assert.deepEqual(
      answer.compensations.map(({ compensation, status }) => [compensation, status]),
      [
        ['release-stock', 'completed'],
        ['cancel-order', 'completed'],
      ],
    );
    const { state, type } = await outcome(handle);
    assert.deepEqual(state, answer, 'the update answered with the final state');
    assert.equal(type, orderFailureTypes.cancelled);
    assert.equal(state.status, 'cancelled');
    assert.deepEqual(services.completed(input.orderId), ['createOrder', 'reserveStock', 'releaseStock', 'cancelOrder']);
    assert.equal(services.calls(input.orderId, 'chargePayment').length, 0);
  });

  describe('placeOrder: the answer of POST /orders, sent with the start', () => {
    const fingerprint = 'sha256:first-body';

    /** Starts the run with its placeOrder update, as the API does (update-with-start). */
    async function placeWithStart(input: OrderSagaInput, updateId: string) {
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof orderSaga>('orderSaga', {
        workflowId: orderWorkflowId(input.orderId),
        taskQueue: orderWorkflowTaskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        memo: { [orderMemoFields.requestFingerprint]: fingerprint, [orderMemoFields.placementUpdateId]: updateId },
      });
      const answer = await env.client.workflow.executeUpdateWithStart(placeOrder, {
        args: [{ requestFingerprint: fingerprint }],
        startWorkflowOperation,
        updateId,
      });
      return { answer, handle: await startWorkflowOperation.workflowHandle() };
    }

    test('accepted once the stock is reserved; a repeat gets the same acceptance, marked repeated', async () => {
      const input = newOrder();
      const { answer, handle } = await placeWithStart(input, 'placement-1');
      assert.equal(answer.outcome, 'accepted');
      assert.equal(answer.repeated, false);
      assert.deepEqual(answer.state.completedSteps, ['create-order', 'reserve-stock']);
      assert.equal(answer.state.totalCents, 2_400);
      const repeat = await handle.executeUpdate(placeOrder, {
        args: [{ requestFingerprint: fingerprint }],
        updateId: 'placement-2',
      });
      assert.equal(repeat.repeated, true);
      assert.deepEqual(repeat.state, answer.state, 'the acceptance as it was, not the state of now');
      const { state } = await outcome(handle);
      assert.equal(state.status, 'confirmed');
      assert.deepEqual(await handle.query(getOrderAcceptance), { outcome: 'accepted', state: answer.state });
    });

    test('another body under the same key is refused by the validator', async () => {
      const input = newOrder();
      const { handle } = await placeWithStart(input, 'placement-1');
      await assert.rejects(
        handle.executeUpdate(placeOrder, { args: [{ requestFingerprint: 'sha256:another-body' }] }),
        (error) =>
          error instanceof WorkflowUpdateFailedError &&
          error.cause instanceof ApplicationFailure &&
          error.cause.type === idempotencyKeyReusedType,
      );
      assert.equal((await outcome(handle)).state.status, 'confirmed', 'the refusal changed nothing');
    });

    test('over the threshold: accepted while it awaits approval', async () => {
      const input = newOrder(needsApproval);
      const { answer, handle } = await placeWithStart(input, 'placement-1');
      assert.equal(answer.outcome, 'accepted');
      assert.equal(answer.state.status, 'awaiting-approval');
      await handle.executeUpdate(decideApproval, { args: [{ approved: true, decidedBy: 'ops@example.com' }] });
      assert.equal((await outcome(handle)).state.status, 'confirmed');
    });

    test('rejected at reserve-stock: answered after the order row was compensated, and the run closes', async () => {
      const input = newOrder();
      services.script(input.orderId, { reserveStock: { kind: 'reject', type: rejectionTypes.outOfStock } });
      const { answer, handle } = await placeWithStart(input, 'placement-1');
      assert.equal(answer.outcome, 'rejected');
      assert.equal(answer.state.status, 'failed');
      assert.equal(answer.state.failure?.type, rejectionTypes.outOfStock);
      assert.deepEqual(
        answer.state.compensations.map(({ compensation, status }) => [compensation, status]),
        [['cancel-order', 'completed']],
      );
      assert.deepEqual(services.completed(input.orderId), ['createOrder', 'cancelOrder']);
      assert.equal((await outcome(handle)).type, orderFailureTypes.failed);
    });
  });

  test('a cancellation from outside the API takes the same path', async () => {
    const input = newOrder(needsApproval);
    const handle = await start(input);
    await waitForStatus(handle, 'awaiting-approval');
    await handle.cancel();
    const { state, type } = await outcome(handle);
    assert.equal(type, orderFailureTypes.cancelled);
    assert.deepEqual(services.completed(input.orderId), ['createOrder', 'reserveStock', 'releaseStock', 'cancelOrder']);
    assert.equal(state.cancellationReason, 'The workflow run was cancelled');
  });

  test('a compensation that keeps failing waits for an operator, whose retry finishes it', async () => {
    const input = newOrder();
    let fixed = false;
    services.script(input.orderId, {
      createShipment: { kind: 'reject', type: rejectionTypes.addressUndeliverable },
      refundPayment: { kind: 'failing', until: () => fixed },
    });
    const handle = await start(input);
    await env.sleep('1 hour'); // longer than the compensation's whole retry budget
    const stuck = await waitForStatus(handle, 'needs-attention');
    const refund = stuck.compensations.find((record) => record.compensation === 'refund-payment');
    assert.equal(refund?.status, 'failed');
    assert.match(refund?.lastError ?? '', /refundPayment failed transiently/);
    assert.deepEqual(
      services.completed(input.orderId),
      ['createOrder', 'reserveStock', 'chargePayment'],
      'the unwinding stopped at the refund',
    );

    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(needsAttentionAttribute), true);
    await assert.rejects(
      handle.executeUpdate(cancelOrder, { args: [{ reason: 'too late' }] }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError && /can no longer be cancelled/.test(error.cause?.message ?? ''),
    );

    fixed = true;
    await handle.executeUpdate(resolveCompensation, { args: [{ action: 'retry', note: 'gateway fixed' }] });
    const { state } = await outcome(handle);
    assert.equal(state.status, 'failed');
    assert.deepEqual(
      state.compensations.map((record) => [record.compensation, record.status, record.runs]),
      [
        ['refund-payment', 'completed', 2],
        ['release-stock', 'completed', 1],
        ['cancel-order', 'completed', 1],
      ],
    );
    assert.deepEqual(services.completed(input.orderId).slice(-3), ['refundPayment', 'releaseStock', 'cancelOrder']);
  });

  test("a cancel-order that keeps failing in the workflow's worker waits for an operator too", async () => {
    const input = newOrder();
    let fixed = false;
    services.script(input.orderId, {
      reserveStock: { kind: 'reject', type: rejectionTypes.outOfStock },
      cancelOrder: { kind: 'failing', until: () => fixed },
    });
    const handle = await start(input);
    await env.sleep('1 hour'); // longer than the compensation's whole retry budget
    const stuck = await waitForStatus(handle, 'needs-attention');
    const cancel = stuck.compensations.find((record) => record.compensation === 'cancel-order');
    assert.equal(cancel?.status, 'failed');
    assert.match(cancel?.lastError ?? '', /cancelOrder failed transiently/);
    assert.equal(services.calls(input.orderId, 'cancelOrder').length, 14, 'one local activity, its whole retry budget');

    fixed = true;
    await handle.executeUpdate(resolveCompensation, { args: [{ action: 'retry', note: 'orders database back' }] });
    const { state } = await outcome(handle);
    assert.equal(state.status, 'failed');
    assert.equal(state.failure?.type, rejectionTypes.outOfStock);
    assert.deepEqual(
      state.compensations.map((record) => [record.compensation, record.status, record.runs]),
      [['cancel-order', 'completed', 2]],
    );
    assert.deepEqual(services.completed(input.orderId), ['createOrder', 'cancelOrder']);
  });

  test('an operator can mark a stuck compensation resolved by hand', async () => {
    const input = newOrder();
    services.script(input.orderId, {
      createShipment: { kind: 'reject', type: rejectionTypes.addressUndeliverable },
      refundPayment: { kind: 'failing' },
    });
    const handle = await start(input);
    await env.sleep('1 hour');
    await waitForStatus(handle, 'needs-attention');
    await handle.executeUpdate(resolveCompensation, {
      args: [{ action: 'mark-resolved', note: 'refunded by bank transfer, ticket 812' }],
    });
    const { state } = await outcome(handle);
    assert.deepEqual(
      state.compensations.map((record) => [record.compensation, record.status]),
      [
        ['refund-payment', 'resolved-manually'],
        ['release-stock', 'completed'],
        ['cancel-order', 'completed'],
      ],
    );
    assert.equal(state.compensations[0]?.operatorNote, 'refunded by bank transfer, ticket 812');
    assert.equal(services.calls(input.orderId, 'refundPayment').at(-1)?.outcome, 'error', 'no refund ever succeeded');
  });
});

const compensationOf: Partial<Record<ActivityName, string>> = {
  cancelOrder: 'cancel-order',
  releaseStock: 'release-stock',
  refundPayment: 'refund-payment',
  cancelShipment: 'cancel-shipment',
};
