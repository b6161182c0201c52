import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundle } from '@temporalio/worker';
import { orderWorkflowId, serviceNames } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { startDevServer } from '../../tooling/temporal/servers';
import { bundleOrderWorkflow, createServiceWorker } from '../../src/workers/service-worker';
import { decideApproval, type ApprovalDecision, type OrderSagaInput } from '../../src/workflows/definitions';
import type { orderSaga } from '../../src/workflows/order-saga';
import { installQuietRuntime, quietLogger } from '../support/quiet-logger';
import { ScriptedServices } from '../support/scripted-services';
import { outcome, waitForStatus } from '../support/saga-run';
import { sagaInput, oneLaptop } from '../support/sample-orders';

/**
 * An operator's decision and the approval timeout in one workflow task, and the rule: a decision the run accepted wins
 * over the timeout, so the update's answer and the order's end agree.
 *
 * Why it holds: in that task the update is applied before the timer's firing; its handler sets the decision
 * synchronously, and the SDK re-evaluates blocked conditions after each job, so awaitApproval's `condition(predicate,
 * timeout)` resolves true before the timer's branch of its race settles. A handler that set the decision after an
 * await (or an interceptor that awaited before it) would lose the race: the decision accepted and answered, the order
 * failed as timed out. These tests fail then (tried).
 *
 * How the test gets both into one task: the run sits on a task queue of its own whose worker the test stops; the timer
 * fires and the decision is admitted while no worker polls, so the next workflow task carries both, and the history is
 * checked to show it. The dev server, not the time-skipping one: after a worker stopped, the Java test server did not
 * hand the timer's workflow task to the next worker on that queue (the run hung), while the dev server does.
 */

const { EventType } = proto.temporal.api.enums.v1;
const services = new ScriptedServices();
let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;
let serviceWorkers: Worker[] = [];
let serviceWorkersRunning: Promise<unknown> | undefined;

before(async () => {
  installQuietRuntime();
  env = await startDevServer({ searchAttributes: orderSearchAttributes, ip: '127.0.0.1' });
  workflowBundle = await bundleOrderWorkflow(quietLogger);
  const activities = services.activities();
  serviceWorkers = await Promise.all(
    serviceNames.map((service) =>
      createServiceWorker(service, activities[service], {
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        workflowBundle,
      }),
    ),
  );
  serviceWorkersRunning = Promise.all(serviceWorkers.map((worker) => worker.run()));
});

after(async () => {
  for (const worker of serviceWorkers) worker.shutdown();
  await serviceWorkersRunning;
  await env?.teardown();
});

/**
 * A worker of the order workflow on the run's own task queue, with the orders activities it runs as local activities,
 * as every worker of the workflow must have; the activity tasks go to the service workers.
 */
async function workflowWorker(taskQueue: string): Promise<{ stop(): Promise<void> }> {
  const worker = await createServiceWorker('orders', services.activities().orders, {
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    workflowBundle,
    taskQueue,
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

const laptopOrder = (): OrderSagaInput =>
  sagaInput('race', { customerId: 'cus_race', items: oneLaptop, approvalTimeout: '2s' });

/**
 * The approval timer fires and `decision` arrives while the run's worker is stopped; then a worker comes back and
 * gets both in one workflow task. Returns the update's answer, the run's outcome and its history.
 */
async function decideAsTheTimerFires(decision: ApprovalDecision) {
  const input = laptopOrder();
  const taskQueue = `approval-race-${input.orderId}`;
  let worker = await workflowWorker(taskQueue);
  const handle = await env.client.workflow.start<typeof orderSaga>('orderSaga', {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue,
    args: [input],
  });
  await waitForStatus(handle, 'awaiting-approval');
  await worker.stop();

  // Past the approval timeout (real time on the dev server): the timer fires, and no worker takes the task it schedules.
  await untilHistoryHas(handle, EventType.EVENT_TYPE_TIMER_FIRED);
  const updateId = `decision-${input.orderId}`;
  const answer = handle.executeUpdate(decideApproval, { args: [decision], updateId }).then(
    (state) => ({ state }),
    (error: unknown) => ({ error }),
  );
  // Until the server holds the update, a worker coming back could take the timer's task alone.
  await untilAdmitted(handle.workflowId, updateId);
  worker = await workflowWorker(taskQueue);
  try {
    const { state, type } = await outcome(handle);
    const { events } = await handle.fetchHistory();
    return { answer: await answer, state, type, events: events ?? [] };
  } finally {
    await worker.stop();
  }
}

async function untilHistoryHas(
  handle: WorkflowHandle,
  eventType: proto.temporal.api.enums.v1.EventType,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { events } = await handle.fetchHistory();
    if ((events ?? []).some((event) => event.eventType === eventType)) return;
    if (Date.now() > deadline) assert.fail(`no ${EventType[eventType]} in the history`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once the server holds the update (admitted; no workflow task has taken it yet). */
async function untilAdmitted(workflowId: string, updateId: string): Promise<void> {
  const { UpdateWorkflowExecutionLifecycleStage } = proto.temporal.api.enums.v1;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const { stage } = await env.connection.workflowService.pollWorkflowExecutionUpdate({
        namespace: env.namespace ?? 'default',
        updateRef: { workflowExecution: { workflowId }, updateId },
        waitPolicy: {
          lifecycleStage: UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED,
        },
      });
      if (
        stage !== undefined &&
        stage !== null &&
        stage >= UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
      )
        return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type HistoryEvent = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events'] extends (infer E)[] | null | undefined
  ? E
  : never;

/** Asserts that the timer's firing and the update's acceptance were answered by the same workflow task. */
function assertOneWorkflowTask(events: HistoryEvent[]): void {
  const type = (event: HistoryEvent) => event.eventType;
  const fired = events.findIndex((event) => type(event) === EventType.EVENT_TYPE_TIMER_FIRED);
  const accepted = events.findIndex((event) => type(event) === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
  assert.ok(fired >= 0 && accepted > fired, 'the timer fired, then the update was accepted');
  const completedBetween = events
    .slice(fired, accepted)
    .filter((event) => type(event) === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  assert.equal(completedBetween.length, 1, 'one workflow task saw the timer and accepted the update');
  assert.equal(
    events.filter((event) => type(event) === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length,
    0,
    'no workflow task failed',
  );
}

describe('an approval decision in the same workflow task as the approval timeout (dev server)', () => {
  test('an approval the run accepted wins: the order is paid and confirmed, as the answer said', async () => {
    const { answer, state, type, events } = await decideAsTheTimerFires({ approved: true, decidedBy: 'ops' });
    assertOneWorkflowTask(events);
    assert.ok('state' in answer, `the update was accepted: ${String('error' in answer && answer.error)}`);
    assert.equal(answer.state.failure, null, 'the answer does not say the order failed');
    assert.equal(type, undefined, `the run ended ${type}: ${state.failure?.message}`);
    assert.equal(state.status, 'confirmed');
    assert.ok(state.completedSteps.includes('await-approval'));
    assert.deepEqual(services.completed(state.orderId), [
      'createOrder',
      'reserveStock',
      'chargePayment',
      'createShipment',
      'commitReservation',
      'confirmOrder',
    ]);
  });

  test('a rejection the run accepted wins too: the order fails as rejected, not as timed out', async () => {
    const { answer, state, type, events } = await decideAsTheTimerFires({
      approved: false,
      decidedBy: 'ops',
      comment: 'Too large',
    });
    assertOneWorkflowTask(events);
    assert.ok('state' in answer, 'the update was accepted');
    assert.equal(type, 'OrderFailed');
    assert.equal(state.failure?.type, 'ApprovalRejected');
    assert.equal(state.failure?.message, 'Rejected by ops: Too large');
  });
});
