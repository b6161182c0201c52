import assert from 'node:assert/strict';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { getOrderState, type OrderSagaState, type OrderStatus } from '../../src/workflows/definitions';
import type { orderSaga } from '../../src/workflows/order-saga';

/** The run's end: its state, and the failure type it ended with (if it failed). */
export async function outcome(
  handle: WorkflowHandle<typeof orderSaga>,
): Promise<{ state: OrderSagaState; type?: string }> {
  try {
    return { state: await handle.result() };
  } catch (error) {
    assert.ok(error instanceof WorkflowFailedError, `expected the run to fail, got ${String(error)}`);
    const cause = error.cause;
    assert.ok(cause instanceof ApplicationFailure, 'the run fails with the saga outcome');
    return { state: cause.details?.[0] as OrderSagaState, type: cause.type ?? undefined };
  }
}

/** Polls the query in real time (on the time-skipping server no timer in the run advances meanwhile), for 15 s. */
export async function waitForStatus(
  handle: WorkflowHandle<typeof orderSaga>,
  status: OrderStatus,
): Promise<OrderSagaState> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await handle.query(getOrderState);
    if (state.status === status) return state;
    if (Date.now() > deadline) assert.fail(`order stayed ${state.status}, expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
