import {
  ApplicationFailure,
  CancellationScope,
  condition,
  currentUpdateInfo,
  patched,
  setHandler,
} from '@temporalio/workflow';
import { formatCents } from '../domain/money';
import {
  cancelOrder,
  decideApproval,
  idempotencyKeyReusedType,
  orderFailureTypes,
  orderMemoFields,
  placeOrder,
  type ApprovalDecision,
  type CancelOrderRequest,
  type OrderPlacement,
  type OrderStatus,
  type OrderStep,
} from './definitions';
import { assertApprovalDecision, assertCancelOrderRequest, assertOrderPlacement } from './message-validation';
import { sagaPatches } from './patches';
import { SagaStop, type SagaState } from './saga-state';

/*
 * The updates customers and operators send to an order's run while its steps go forward: its placement, its
 * cancellation and the approval of a large order. (An operator's resolution of a stuck compensation belongs to the
 * compensation stack.)
 */

const cancellableStatuses: readonly OrderStatus[] = ['running', 'awaiting-approval'];

/** placeOrder: answers every placement of the order with its acceptance, once decided. */
export function answerPlacements(saga: SagaState, memo: Record<string, unknown>): void {
  setHandler(
    placeOrder,
    async () => {
      const repeated = currentUpdateInfo()?.id !== memo[orderMemoFields.placementUpdateId];
      // A rejection whose compensation is stuck is answered now, not after an operator steps in.
      await condition(() => saga.acceptance !== null || saga.state.status === 'needs-attention');
      return { ...(saga.acceptance ?? { outcome: 'rejected' as const, state: saga.snapshot() }), repeated };
    },
    {
      validator: (placement: OrderPlacement) => {
        assertOrderPlacement(placement);
        const startedWith = memo[orderMemoFields.requestFingerprint];
        // Runs started without a fingerprint in their memo cannot tell; they take the placement as a repeat.
        if (typeof startedWith === 'string' && startedWith !== placement.requestFingerprint) {
          throw ApplicationFailure.nonRetryable(
            `Order ${saga.state.orderId} was placed with another request body under the same Idempotency-Key`,
            idempotencyKeyReusedType,
          );
        }
      },
    },
  );
}

/** cancelOrder, and a cancellation of the run itself: the saga stops before its next step and unwinds. */
export function acceptCancellations(saga: SagaState): void {
  const { state } = saga;
  setHandler(
    cancelOrder,
    async (request) => {
      saga.requestCancellation(request);
      // Answered once the cancellation has run its course, so the caller learns what was compensated.
      if (patched(sagaPatches.cancelAnswersWhenSettled)) await condition(() => saga.settled());
      return state;
    },
    {
      validator: (request: CancelOrderRequest) => {
        assertCancelOrderRequest(request);
        if (!cancellableStatuses.includes(state.status) || state.currentStep === 'confirm-order') {
          throw ApplicationFailure.nonRetryable(
            `Order ${state.orderId} can no longer be cancelled: it is ${state.currentStep === 'confirm-order' ? 'being confirmed' : state.status}`,
            'OrderNotCancellable',
          );
        }
      },
    },
  );

  // A cancellation from outside (the Web UI's Cancel, `temporal workflow
  // cancel`) takes the same path as the cancelOrder update: the step in flight
  // finishes, so its compensation is known, and then the saga unwinds.
  CancellationScope.current().cancelRequested.catch(() => {
    saga.requestCancellation({ reason: 'The workflow run was cancelled' });
  });
}

/** decideApproval, and the await-approval step that waits for it. */
export class ApprovalDesk {
  private decision: ApprovalDecision | undefined;

  constructor(private readonly saga: SagaState) {
    setHandler(
      decideApproval,
      (decision) => {
        this.decision = decision;
        return saga.state;
      },
      {
        validator: (decision: ApprovalDecision) => {
          assertApprovalDecision(decision);
          // A decision accepted here wins even if the approval timer fires in the same workflow task: the update is
          // applied before the timer, the handler sets `decision` synchronously and the SDK re-evaluates conditions
          // after each job, so awaitDecision's condition sees it first (tests/workflow/approval-race.workflow.test.ts).
          if (saga.state.status !== 'awaiting-approval' || this.decision !== undefined) {
            throw ApplicationFailure.nonRetryable(
              `Order ${saga.state.orderId} is not awaiting approval: it is ${saga.state.status}`,
              'NotAwaitingApproval',
            );
          }
        },
      },
    );
  }

  /** The order is accepted, and waits up to `timeout` for an operator to approve it; a rejection stops the saga. */
  async awaitDecision(thresholdCents: number, timeout: string): Promise<void> {
    const { saga } = this;
    const step: OrderStep = 'await-approval';
    saga.stopIfCancelled(step);
    saga.state.currentStep = step;
    saga.publish('awaiting-approval');
    saga.decideAcceptance('accepted');
    const decided = await CancellationScope.nonCancellable(() =>
      condition(() => this.decision !== undefined || saga.cancellation !== undefined, timeout),
    );
    saga.state.currentStep = null;
    saga.publish('running');
    saga.stopIfCancelled(step);
    const { decision } = this;
    if (!decided || !decision) {
      throw new SagaStop({
        step,
        type: orderFailureTypes.approvalTimedOut,
        message: `No approval decision within ${timeout} for a total over ${formatCents(thresholdCents)}`,
      });
    }
    if (!decision.approved) {
      throw new SagaStop({
        step,
        type: orderFailureTypes.approvalRejected,
        message: `Rejected by ${decision.decidedBy}${decision.comment ? `: ${decision.comment}` : ''}`,
      });
    }
    saga.state.completedSteps.push(step);
  }
}
