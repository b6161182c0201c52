import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import proto from '@temporalio/proto';
import { requestIdHeader } from '../../src/api/request-id';
import { defaultDraft, orderRequestOf } from '../../tooling/cli/scenarios';
import { createLogger } from '../../src/logger';
import { orderWorkflowId } from '../../src/temporal/names';
import { orderIdFor } from '../../src/temporal/order-ids';
import { installWorkerRuntime } from '../../src/workers/runtime';
import { finalStatuses, type OrderSagaState } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';

/**
 * The JSON log lines of one order, from the request that places it to its last activity, as the API and the workers
 * write them: each line parses, names its request and, past the API's first middleware, its order and run; the
 * workflow's own lines are written once although the orders worker keeps no run cached, so that every workflow task
 * replays the run from its start.
 */

type Line = Record<string, unknown>;

/** A pino destination that keeps the raw lines. */
function captured(): { raw: string[]; write(line: string): void } {
  const raw: string[] = [];
  return { raw, write: (line) => void raw.push(line) };
}

/** Each field once: pino would write a child's binding and the same field of a line twice. */
function assertNoRepeatedFields(raw: string): void {
  for (const field of ['requestId', 'orderId', 'workflowId', 'runId', 'msg']) {
    const count = raw.split(`"${field}":`).length - 1;
    assert.ok(count <= 1, `${field} written ${count} times in ${raw}`);
  }
}

function parse(raw: string[]): Line[] {
  return raw.map((line) => {
    assertNoRepeatedFields(line);
    return JSON.parse(line) as Line;
  });
}

describe('structured logs of one order', () => {
  const apiLog = captured();
  const workerLog = captured();
  let stack: Stack | undefined;

  before(async () => {
    // Before the stack: its workers share this process's Temporal runtime, and debug shows the SDK's own lines.
    installWorkerRuntime({ logger: createLogger('worker', 'debug', workerLog) });
    stack = await startStack('sqlite', { apiLogger: createLogger('api', 'debug', apiLog), maxCachedWorkflows: 0 });
  });

  after(async () => {
    await stack?.stop();
  });

  test('every line of the request, its activities and its workflow names the order, the run and the request', async () => {
    const { baseUrl, temporal: env } = stack!;
    const requestId = `logging-${randomUUID()}`;
    const key = `logging-${randomUUID()}`;
    const orderId = orderIdFor('cus_logs', key);
    const workflowId = orderWorkflowId(orderId);

    const placed = await fetch(`${baseUrl}/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': key,
        [requestIdHeader]: requestId,
        // Answered at the start, however busy the machine: the acceptance's wait is not what this test is about.
        prefer: 'respond-async',
      },
      body: JSON.stringify(orderRequestOf({ ...defaultDraft, customerId: 'cus_logs', quantity: 1 })),
    });
    assert.equal(placed.status, 202, await placed.text());
    assert.equal(placed.headers.get(requestIdHeader), requestId);

    const handle = env.client.workflow.getHandle(workflowId);
    const state = (await handle.result()) as OrderSagaState;
    assert.ok(finalStatuses.includes(state.status));
    assert.equal(state.status, 'confirmed');
    const { runId } = await handle.describe();
    const history = await handle.fetchHistory();
    // Stops the workers, which flushes the runtime's log buffer: every line of the run is written by then.
    await stack!.stop();
    stack = undefined;

    // (a) The API: every line names its request; those of the placing request also the order and its run's id.
    const apiLines = parse(apiLog.raw);
    assert.ok(apiLines.length > 0);
    for (const line of apiLines) assert.equal(typeof line.requestId, 'string', JSON.stringify(line));
    const placing = apiLines.filter((line) => line.requestId === requestId);
    assert.deepEqual(
      placing.map(({ msg, status }) => ({ msg, ...(status === undefined ? {} : { status }) })),
      [{ msg: 'order started' }, { msg: 'request', status: 202 }],
    );
    for (const line of placing) {
      assert.equal(line.orderId, orderId, JSON.stringify(line));
      assert.equal(line.workflowId, workflowId, JSON.stringify(line));
    }

    // (b) The workers: the order's activities and its workflow.
    const workerLines = parse(workerLog.raw).filter((line) => line.workflowId === workflowId);
    const activityLines = workerLines.filter((line) => line.activityId !== undefined);
    const workflowLines = workerLines.filter((line) => line.activityId === undefined);
    const completedActivities = activityLines
      .filter((line) => line.msg === 'Activity completed')
      .map((line) => line.activityType);
    for (const activity of [
      'createOrder',
      'reserveStock',
      'chargePayment',
      'createShipment',
      'commitReservation',
      'confirmOrder',
    ]) {
      assert.ok(completedActivities.includes(activity), `${activity} completed: ${completedActivities.join(', ')}`);
    }
    for (const line of activityLines) {
      const ids = { workflowId: line.workflowId, runId: line.runId, orderId: line.orderId };
      assert.deepEqual(ids, { workflowId, runId, orderId }, JSON.stringify(line));
      // The run under one name (the SDK's workflowRunId renamed), and no task token, which could complete the activity.
      assert.equal(line.workflowRunId, undefined);
      assert.equal(line.taskToken, undefined);
      // The SDK writes 'Activity started' before any interceptor sees the activity's headers.
      if (line.msg !== 'Activity started') assert.equal(line.requestId, requestId, JSON.stringify(line));
    }

    const sagaLines = workflowLines.filter((line) => line.sdkComponent === 'workflow');
    assert.ok(sagaLines.length >= 2, `the saga's own lines: ${JSON.stringify(sagaLines)}`);
    for (const line of workflowLines) {
      const ids = { workflowId: line.workflowId, runId: line.runId, orderId: line.orderId, requestId: line.requestId };
      assert.deepEqual(ids, { workflowId, runId, orderId, requestId }, JSON.stringify(line));
    }
    // Once each, although each of the run's workflow tasks replayed it from the start (no run was cached).
    const byMessage = new Map<unknown, number>();
    for (const { msg } of workflowLines) byMessage.set(msg, (byMessage.get(msg) ?? 0) + 1);
    for (const [msg, count] of byMessage) assert.equal(count, 1, `'${String(msg)}' written ${count} times`);
    assert.equal(byMessage.get('Workflow started'), 1);
    assert.equal(byMessage.get('Workflow completed'), 1);

    // The replays did happen: several workflow tasks, none of them on a sticky queue (no cached run to resume).
    const scheduled = (history.events ?? []).filter(
      (event) => event.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    );
    assert.ok(scheduled.length >= 3, `${scheduled.length} workflow tasks`);
    for (const event of scheduled) {
      assert.notEqual(
        event.workflowTaskScheduledEventAttributes?.taskQueue?.kind,
        proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY,
      );
    }
  });
});
