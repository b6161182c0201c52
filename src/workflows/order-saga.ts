import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  log,
  workflowInfo,
} from '@temporalio/workflow';
import { orderFailureTypes, orderMemoFields, type OrderSagaInput, type OrderSagaState } from './definitions';
import { CompensationStack } from './compensation-stack';
import { acceptCancellations, answerPlacements, ApprovalDesk } from './order-updates';
import { SagaState, SagaStop } from './saga-state';
import { chargePayment, confirmOrder, createOrder, createShipment, reserveStock } from './saga-steps';
import { StepRunner } from './step-runner';

/**
 * An order as a saga: each step runs in its own service, each completed step
 * pushes its compensation, and on failure or cancellation the compensations
 * run in reverse order until every one has succeeded or an operator has
 * resolved it. It reads like the README's saga diagram; the steps are the rows
 * of saga-steps.ts, run by step-runner.ts, unwound by compensation-stack.ts,
 * and saga-state.ts publishes where the order stands.
 */
export async function orderSaga(input: OrderSagaInput): Promise<OrderSagaState> {
  const { workflowId } = workflowInfo();
  const memo = workflowInfo().memo ?? {};
  const saga = new SagaState(input.orderId);
  answerPlacements(saga, memo);
  acceptCancellations(saga);
  const approvals = new ApprovalDesk(saga);
  const compensations = new CompensationStack(saga);
  const fingerprint = memo[orderMemoFields.requestFingerprint];
  const steps = new StepRunner(saga, compensations, {
    input,
    workflowId,
    requestFingerprint: typeof fingerprint === 'string' ? fingerprint : undefined,
    state: saga.state,
  });
  saga.begin(input);

  try {
    await steps.run(createOrder);
    const reservation = await steps.run(reserveStock);
    saga.recordTotal(reservation.totalCents);
    if (reservation.totalCents > input.approvalThresholdCents) {
      await approvals.awaitDecision(input.approvalThresholdCents, input.approvalTimeout);
    } else {
      saga.decideAcceptance('accepted');
    }
    const payment = await steps.run(chargePayment, { reservation });
    saga.recordPayment(payment);
    const shipment = await steps.run(createShipment);
    saga.recordShipment(shipment);
    // The point of no return: once the confirmation has begun it is never unwound. Its activities wait out any
    // transient trouble for as long as it lasts (no deadline), visibly; only a business answer (the stock was
    // already released, say) can still stop the order, and then nothing was confirmed.
    await steps.run(confirmOrder, { reservation, payment, shipment });
    saga.finish('confirmed');
    log.info('Order confirmed', { totalCents: reservation.totalCents });
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    return saga.state;
  } catch (error) {
    if (!(error instanceof SagaStop)) throw error;
    const { failure } = error;
    saga.state.failure = failure;
    log.warn('Order saga stopped; compensating', { ...failure, compensations: compensations.size });
    await CancellationScope.nonCancellable(() => compensations.unwind());
    const cancelled = failure.type === orderFailureTypes.cancelled;
    saga.finish(cancelled ? 'cancelled' : 'failed');
    log.info(cancelled ? 'Order cancelled' : 'Order failed', { step: failure.step });
    saga.decideAcceptance('rejected');
    // Placements and cancellations waiting for this moment answer before the run closes.
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    throw ApplicationFailure.create({
      type: cancelled ? orderFailureTypes.cancelled : orderFailureTypes.failed,
      message: `Order ${input.orderId} ${cancelled ? 'cancelled' : 'failed'} at ${failure.step}: ${failure.message}`,
      nonRetryable: true,
      details: [saga.state],
    });
  }
}
