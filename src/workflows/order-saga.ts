import {
  ActivityFailure,
  allHandlersFinished,
  TimeoutFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  currentUpdateInfo,
  log,
  metricMeter,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { InventoryActivities } from '../activities/inventory';
import type { OrdersActivities } from '../activities/orders';
import type { PaymentsActivities } from '../activities/payments';
import type { ShippingActivities } from '../activities/shipping';
import { formatCents } from '../domain/money';
import { describeShippingRate } from '../domain/shipping-rate';
import { isRejectionType } from '../domain/rejections';
import { commitReservationKeyOf, stepKeyOf, taskQueues } from '../temporal/names';
import {
  customerIdAttribute,
  needsAttentionAttribute,
  orderIdAttribute,
  orderStatusAttribute,
  orderTotalAttribute,
  orderWaitingOnAttribute,
} from '../temporal/search-attributes';
import {
  cancelOrder,
  decideApproval,
  defaultOrderDeadlines,
  defaultWorkerWaitLimit,
  finalStatuses,
  getOrderAcceptance,
  getOrderState,
  idempotencyKeyReusedType,
  orderFailureTypes,
  orderMemoFields,
  placeOrder,
  resolveCompensation,
  sagaMetricNames,
  type ApprovalDecision,
  type CancelOrderRequest,
  type CompensationName,
  type CompensationRecord,
  type OperatorResolution,
  type OrderAcceptance,
  type OrderFailure,
  type OrderPlacement,
  type OrderSagaInput,
  type OrderSagaState,
  type OrderStatus,
  type OrderStep,
  type StepWait,
  stepTimeoutMs,
} from './definitions';
import {
  assertApprovalDecision,
  assertCancelOrderRequest,
  assertOperatorResolution,
  assertOrderPlacement,
} from './message-validation';

/**
 * Steps retry transient faults with backoff, in rounds: when a round's
 * attempts run out the saga does not fail the order, it says that the order
 * waits (state, search attribute, metric) and starts another round, until the
 * step succeeds, the service gives a business answer (thrown non-retryable,
 * which stops the saga at once) or the step's business deadline passes.
 * Rounds exist only so that the workflow sees the trouble and can publish it;
 * the retry policy inside a round is Temporal's.
 */
/** The first round: quick retries for a blip, about 15 s of backoff before the order says it waits. */
const firstRound: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
};

/** Each step call sets its round's retry policy (roundOptions); this is the first round's. */
const stepOptions: ActivityOptions = { startToCloseTimeout: stepTimeoutMs, retry: firstRound };

/**
 * Every later round: slower, so a long outage costs a few history events an
 * hour (each round adds three), not thousands; almost 6 min of backoff.
 */
const laterRound: RetryPolicy = {
  initialInterval: '15s',
  backoffCoefficient: 2,
  maximumInterval: '2m',
  maximumAttempts: 6,
};

/**
 * Compensations get a longer budget (about ten minutes). Past it the saga
 * does not give up: it waits for an operator to retry or resolve by hand.
 */
const compensationOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 14 },
};

function serviceActivities(options: ActivityOptions) {
  return {
    orders: proxyActivities<OrdersActivities>({ ...options, taskQueue: taskQueues.orders }),
    inventory: proxyActivities<InventoryActivities>({ ...options, taskQueue: taskQueues.inventory }),
    payments: proxyActivities<PaymentsActivities>({ ...options, taskQueue: taskQueues.payments }),
    shipping: proxyActivities<ShippingActivities>({ ...options, taskQueue: taskQueues.shipping }),
  };
}

const steps = serviceActivities(stepOptions);
const compensations = serviceActivities(compensationOptions);

/**
 * Since this patch the confirm step commits the order's stock reservation.
 * Runs whose confirm step was recorded without it replay without it
 * (docs/VERSIONING.md says when the patch can go).
 */
const commitReservationPatch = 'commit-reservation-on-confirm';

/**
 * Since this patch the cancelOrder update completes once the cancellation has
 * run its course; before, it completed at once. Runs whose cancellation was
 * recorded the old way replay the old way.
 */
const cancelAnswersWhenSettledPatch = 'cancel-answers-when-settled';

/**
 * Since this patch the run publishes the `OrderTotal` search attribute as soon
 * as the stock is reserved (one more upsert command, so older runs replay
 * without it).
 */
const orderTotalPatch = 'order-total-search-attribute';

/**
 * Since this patch a step whose round of retries runs out waits (another
 * round) instead of failing the order. Asked only when a round has run out,
 * so runs that never waited carry no marker, and runs recorded before it
 * fail that step as they did.
 */
const waitOutTransientFailuresPatch = 'steps-wait-out-transient-failures';

/** Replay-safe counters: the SDK does not emit them again when a run is replayed. */
const orderOutcomes = metricMeter.createCounter(sagaMetricNames.outcomes, 'orders', 'Orders finished, by outcome');
const compensationRuns = metricMeter.createCounter(
  sagaMetricNames.compensations,
  'runs',
  'Compensation runs that ended, by step, compensation and outcome',
);
const stepWaits = metricMeter.createCounter(
  sagaMetricNames.stepWaits,
  'rounds',
  'Rounds of step retries that ended on transient trouble (the order waits), by step',
);

/** Ends the saga's forward path with a known reason; caught by the saga itself. */
class SagaStop extends Error {
  override name = 'SagaStop';
  constructor(readonly failure: OrderFailure) {
    super(failure.message);
  }
}

/** When a step stops waiting out trouble and fails the order; `at` null: never (the point of no return). */
interface StepDeadline {
  at: number | null;
  /** The business rule, for the failure message, e.g. "payment within 15m". */
  rule: string;
}

const noDeadline: StepDeadline = { at: null, rule: 'retried until done' };

interface PendingCompensation {
  step: OrderStep;
  compensation: CompensationName;
  run: () => Promise<unknown>;
}

const cancellableStatuses: readonly OrderStatus[] = ['running', 'awaiting-approval'];

/** Where a stopped saga rests until something changes: finished, or waiting for an operator. */
const settledStatuses: readonly OrderStatus[] = [...finalStatuses, 'needs-attention'];

/**
 * An order as a saga: each step runs in its own service, each completed step
 * pushes its compensation, and on failure or cancellation the compensations
 * run in reverse order until every one has succeeded or an operator has
 * resolved it.
 */
export async function orderSaga(input: OrderSagaInput): Promise<OrderSagaState> {
  const { workflowId } = workflowInfo();
  const keyOf = (step: OrderStep) => stepKeyOf(workflowId, step);
  const { orderId } = input;

  const state: OrderSagaState = {
    orderId,
    status: 'running',
    currentStep: null,
    completedSteps: [],
    compensations: [],
    totalCents: null,
    paymentId: null,
    shipmentId: null,
    trackingNumber: null,
    shippingRate: null,
    failure: null,
    cancellationReason: null,
    waiting: null,
  };
  const deadlines = input.deadlines ?? defaultOrderDeadlines;
  const workerWaitLimit = input.workerWaitLimit ?? defaultWorkerWaitLimit;
  /** A deadline `duration` from now, in workflow time. */
  const deadlineIn = (duration: string, rule: string): StepDeadline => ({
    at: Date.now() + msToNumber(duration),
    rule: `${rule} within ${duration}`,
  });
  const stack: PendingCompensation[] = [];
  let cancellation: CancelOrderRequest | undefined;
  let approval: ApprovalDecision | undefined;
  let resolution: OperatorResolution | undefined;
  let acceptance: OrderAcceptance | null = null;

  /** A copy, so later changes to the state do not rewrite an answer already decided. */
  const snapshot = (): OrderSagaState => JSON.parse(JSON.stringify(state)) as OrderSagaState;
  const settled = () => settledStatuses.includes(state.status);

  function decideAcceptance(outcome: OrderAcceptance['outcome']): void {
    acceptance ??= { outcome, state: snapshot() };
  }

  setHandler(getOrderState, () => state);
  setHandler(getOrderAcceptance, () => acceptance);

  const memo = workflowInfo().memo ?? {};

  setHandler(
    placeOrder,
    async () => {
      const repeated = currentUpdateInfo()?.id !== memo[orderMemoFields.placementUpdateId];
      // A rejection whose compensation is stuck is answered now, not after an operator steps in.
      await condition(() => acceptance !== null || state.status === 'needs-attention');
      return { ...(acceptance ?? { outcome: 'rejected' as const, state: snapshot() }), repeated };
    },
    {
      validator: (placement: OrderPlacement) => {
        assertOrderPlacement(placement);
        const startedWith = memo[orderMemoFields.requestFingerprint];
        // Runs started without a fingerprint in their memo cannot tell; they take the placement as a repeat.
        if (typeof startedWith === 'string' && startedWith !== placement.requestFingerprint) {
          throw ApplicationFailure.nonRetryable(
            `Order ${orderId} was placed with another request body under the same Idempotency-Key`,
            idempotencyKeyReusedType,
          );
        }
      },
    },
  );

  setHandler(
    cancelOrder,
    async (request) => {
      cancellation ??= request;
      state.cancellationReason ??= request.reason;
      // Answered once the cancellation has run its course, so the caller learns what was compensated.
      if (patched(cancelAnswersWhenSettledPatch)) await condition(settled);
      return state;
    },
    {
      validator: (request: CancelOrderRequest) => {
        assertCancelOrderRequest(request);
        if (!cancellableStatuses.includes(state.status) || state.currentStep === 'confirm-order') {
          throw ApplicationFailure.nonRetryable(
            `Order ${orderId} can no longer be cancelled: it is ${state.currentStep === 'confirm-order' ? 'being confirmed' : state.status}`,
            'OrderNotCancellable',
          );
        }
      },
    },
  );

  setHandler(
    decideApproval,
    (decision) => {
      approval = decision;
      return state;
    },
    {
      validator: (decision: ApprovalDecision) => {
        assertApprovalDecision(decision);
        // A decision accepted here wins even if the approval timer fires in the same workflow task: the update is
        // applied before the timer, the handler sets `approval` synchronously and the SDK re-evaluates conditions
        // after each job, so awaitApproval's condition sees the decision first (tests/approval-race.workflow.test.ts).
        if (state.status !== 'awaiting-approval' || approval !== undefined) {
          throw ApplicationFailure.nonRetryable(
            `Order ${orderId} is not awaiting approval: it is ${state.status}`,
            'NotAwaitingApproval',
          );
        }
      },
    },
  );

  setHandler(
    resolveCompensation,
    (request) => {
      resolution = request;
      return state;
    },
    {
      validator: (request: OperatorResolution) => {
        assertOperatorResolution(request);
        if (state.status !== 'needs-attention' || resolution !== undefined) {
          throw ApplicationFailure.nonRetryable(
            `Order ${orderId} has no compensation awaiting an operator: it is ${state.status}`,
            'NothingToResolve',
          );
        }
      },
    },
  );

  // A cancellation from outside (the Web UI's Cancel, `temporal workflow
  // cancel`) takes the same path as the cancelOrder update: the step in flight
  // finishes, so its compensation is known, and then the saga unwinds.
  CancellationScope.current().cancelRequested.catch(() => {
    cancellation ??= { reason: 'The workflow run was cancelled' };
    state.cancellationReason ??= cancellation.reason;
  });

  function publish(status: OrderStatus): void {
    state.status = status;
    upsertSearchAttributes([
      { key: orderStatusAttribute, value: status },
      { key: needsAttentionAttribute, value: status === 'needs-attention' },
    ]);
    describeProgress();
  }

  function describeProgress(): void {
    const lines = [`**${state.status}**${state.currentStep ? ` — ${state.currentStep}` : ''}`];
    if (state.totalCents !== null) lines.push(`Total: ${formatCents(state.totalCents)}`);
    if (state.shippingRate) lines.push(`Shipping: ${describeShippingRate(state.shippingRate)}`);
    if (state.completedSteps.length > 0) lines.push(`Completed: ${state.completedSteps.join(', ')}`);
    if (state.waiting) {
      const { step, reason, since, deadline } = state.waiting;
      lines.push(`Waiting on ${step} since ${since}${deadline ? ` (deadline ${deadline})` : ''}: ${reason}`);
    }
    if (state.failure) lines.push(`Stopped at ${state.failure.step}: ${state.failure.message}`);
    for (const record of state.compensations) {
      lines.push(`- ${record.compensation}: ${record.status}${record.lastError ? ` (${record.lastError})` : ''}`);
    }
    setCurrentDetails(lines.join('\n'));
  }

  function stopIfCancelled(nextStep: OrderStep): void {
    if (cancellation) {
      throw new SagaStop({ step: nextStep, type: orderFailureTypes.cancelled, message: cancellation.reason });
    }
  }

  /**
   * Runs a step to completion even if the run is cancelled meanwhile, and
   * pushes its compensation unless the service rejected the step outright
   * (a rejection changes nothing). A step that stopped without an answer
   * (its deadline passed, the order was cancelled while it waited, or a run
   * recorded before steps waited ran out of retries) may or may not have
   * taken effect, so it is compensated too; the services make that safe (a
   * compensation of nothing is a no-op, and it fences late retries).
   */
  async function runStep<T>(
    step: OrderStep,
    execute: () => Promise<T>,
    compensation?: Omit<PendingCompensation, 'step'>,
  ): Promise<T> {
    stopIfCancelled(step);
    state.currentStep = step;
    describeProgress();
    try {
      const result = await CancellationScope.nonCancellable(execute);
      state.completedSteps.push(step);
      if (compensation) stack.push({ step, ...compensation });
      return result;
    } catch (error) {
      const failure = error instanceof SagaStop ? error.failure : toOrderFailure(step, error);
      if (compensation && !isRejectionType(failure.type)) stack.push({ step, ...compensation });
      throw new SagaStop(failure);
    } finally {
      state.currentStep = null;
      if (state.waiting) stopWaiting();
    }
  }

  /**
   * Runs one activity of `step` in rounds of retries until it answers. A round
   * that ends on transient trouble makes the order wait, visibly, and another
   * round starts; the order stops only on a business answer, a failure that
   * retrying cannot change, a cancellation, or the step's deadline.
   */
  async function untilAnswered<T>(
    step: OrderStep,
    deadline: StepDeadline,
    call: (options: ActivityOptions) => Promise<T>,
  ): Promise<T> {
    for (let round = 0; ; round += 1) {
      try {
        const answer = await call(roundOptions(round, deadline));
        if (state.waiting) stopWaiting();
        return answer;
      } catch (error) {
        const reason = error instanceof ActivityFailure ? transientTrouble(error, workerWaitLimit) : null;
        if (reason === null || !patched(waitOutTransientFailuresPatch)) throw error;
        // A round bounded by the deadline ends with retry state TIMEOUT when its schedule-to-close ran out, or when
        // the next retry would not start before it: either way no attempt fits before the deadline. Going round again
        // would make a round of one attempt after another in the deadline's last moments.
        // (A task no worker took within its limit ends with TIMEOUT too: that one is not about the deadline.)
        const outOfTime =
          error instanceof ActivityFailure &&
          error.retryState === 'TIMEOUT' &&
          !(error.cause instanceof TimeoutFailure && error.cause.timeoutType === 'SCHEDULE_TO_START');
        if (deadline.at !== null && (outOfTime || Date.now() >= deadline.at)) {
          throw new SagaStop({
            step,
            type: orderFailureTypes.deadlineExceeded,
            message: `${step} did not succeed by its deadline (${deadline.rule}): ${reason}`,
          });
        }
        // A cancellation that arrived while the step waited takes effect now rather than after the outage.
        stopIfCancelled(step);
        wait(step, reason, deadline);
      }
    }
  }

  function roundOptions(round: number, deadline: StepDeadline): ActivityOptions {
    const remaining = deadline.at === null ? null : Math.max(deadline.at - Date.now(), 1_000);
    return {
      retry: round === 0 ? firstRound : laterRound,
      // Only the first round: once the order says it waits for a worker, the task waits in its queue for as long as
      // it takes. A limit on every round would livelock a queue whose backlog takes longer than the limit to drain:
      // each task would time out and queue again at the back before a worker reached it.
      ...(round === 0 ? { scheduleToStartTimeout: workerWaitLimit } : {}),
      // The deadline bounds the round too, so an order does not outlive it by a round of backoff.
      ...(remaining === null ? {} : { scheduleToCloseTimeout: remaining }),
    };
  }

  function wait(step: OrderStep, reason: string, deadline: StepDeadline): void {
    const waiting: StepWait = {
      step,
      since: state.waiting?.since ?? new Date().toISOString(),
      reason,
      rounds: (state.waiting?.rounds ?? 0) + 1,
      deadline: deadline.at === null ? null : new Date(deadline.at).toISOString(),
    };
    if (state.waiting === null) upsertSearchAttributes([{ key: orderWaitingOnAttribute, value: step }]);
    state.waiting = waiting;
    stepWaits.add(1, { step });
    if (waiting.rounds > 1) {
      log.info('The order still waits', { ...waiting });
    } else if (deadline.at === null) {
      // Past the point of no return nothing is undone: this order needs someone to make the service answer.
      log.error('The order waits at its point of no return', { ...waiting });
    } else {
      log.warn('The order waits out transient trouble', { ...waiting });
    }
    describeProgress();
  }

  function stopWaiting(): void {
    state.waiting = null;
    upsertSearchAttributes([{ key: orderWaitingOnAttribute, value: null }]);
  }

  async function awaitApproval(thresholdCents: number): Promise<void> {
    const step: OrderStep = 'await-approval';
    stopIfCancelled(step);
    state.currentStep = step;
    publish('awaiting-approval');
    decideAcceptance('accepted');
    const decided = await CancellationScope.nonCancellable(() =>
      condition(() => approval !== undefined || cancellation !== undefined, input.approvalTimeout),
    );
    state.currentStep = null;
    publish('running');
    stopIfCancelled(step);
    if (!decided || !approval) {
      throw new SagaStop({
        step,
        type: orderFailureTypes.approvalTimedOut,
        message: `No approval decision within ${input.approvalTimeout} for a total over ${formatCents(thresholdCents)}`,
      });
    }
    if (!approval.approved) {
      throw new SagaStop({
        step,
        type: orderFailureTypes.approvalRejected,
        message: `Rejected by ${approval.decidedBy}${approval.comment ? `: ${approval.comment}` : ''}`,
      });
    }
    state.completedSteps.push(step);
  }

  /** Unwinds the stack in reverse; a compensation that cannot finish waits for an operator. */
  async function compensate(): Promise<void> {
    const pending = [...stack].reverse();
    const records: CompensationRecord[] = pending.map(({ step, compensation }) => ({
      step,
      compensation,
      status: 'pending',
      runs: 0,
    }));
    state.compensations = records;
    publish('compensating');
    for (const [index, { run }] of pending.entries()) {
      const record = records[index]!;
      const ended = (outcome: 'completed' | 'failed' | 'resolved-manually') =>
        compensationRuns.add(1, { step: record.step, compensation: record.compensation, outcome });
      for (;;) {
        record.status = 'running';
        record.runs += 1;
        describeProgress();
        try {
          await run();
          record.status = 'completed';
          ended('completed');
          log.info('Compensation completed', { compensation: record.compensation, runs: record.runs });
          describeProgress();
          break;
        } catch (error) {
          if (!(error instanceof ActivityFailure)) throw error;
          record.status = 'failed';
          record.lastError = error.cause?.message ?? error.message;
          ended('failed');
          log.error('Compensation failed after its retries; waiting for an operator', {
            compensation: record.compensation,
            runs: record.runs,
            error: record.lastError,
          });
          publish('needs-attention');
          await condition(() => resolution !== undefined);
          const { action, note } = resolution!;
          resolution = undefined;
          record.operatorNote = note;
          log.info('Operator resolution received', { compensation: record.compensation, action });
          publish('compensating');
          if (action === 'mark-resolved') {
            record.status = 'resolved-manually';
            ended('resolved-manually');
            describeProgress();
            break;
          }
        }
      }
    }
  }

  upsertSearchAttributes([
    { key: orderIdAttribute, value: orderId },
    { key: customerIdAttribute, value: input.customerId },
  ]);
  publish('running');
  log.info('Order saga started', { customerId: input.customerId, items: input.items.length });

  const itemCount = input.items.reduce((count, item) => count + item.quantity, 0);
  const itemList = input.items.map(({ sku, quantity }) => `${quantity} × ${sku}`).join(', ');
  const totalText = () => (state.totalCents === null ? 'the order total' : formatCents(state.totalCents));

  const reasonForCompensation = () => state.failure?.message ?? 'Order compensated';

  try {
    const acceptanceDeadline = deadlineIn(deadlines.acceptance, 'acceptance');
    await runStep(
      'create-order',
      () =>
        untilAnswered('create-order', acceptanceDeadline, (options) =>
          steps.orders.createOrder.executeWithOptions(
            { ...options, summary: `Create order ${orderId}: ${itemCount} item(s) for customer ${input.customerId}` },
            [
              {
                key: keyOf('create-order'),
                orderId,
                workflowId,
                customerId: input.customerId,
                items: input.items,
                ...(typeof memo[orderMemoFields.requestFingerprint] === 'string'
                  ? { requestFingerprint: memo[orderMemoFields.requestFingerprint] as string }
                  : {}),
              },
            ],
          ),
        ),
      {
        compensation: 'cancel-order',
        run: () =>
          compensations.orders.cancelOrder.executeWithOptions(
            { summary: `Cancel order ${orderId}: ${reasonForCompensation()}` },
            [{ stepKey: keyOf('create-order'), orderId, reason: reasonForCompensation() }],
          ),
      },
    );

    const reservation = await runStep(
      'reserve-stock',
      () =>
        untilAnswered('reserve-stock', acceptanceDeadline, (options) =>
          steps.inventory.reserveStock.executeWithOptions({ ...options, summary: `Reserve ${itemList}` }, [
            { key: keyOf('reserve-stock'), orderId, items: input.items },
          ]),
        ),
      {
        compensation: 'release-stock',
        run: () =>
          compensations.inventory.releaseStock.executeWithOptions({ summary: `Release the stock of ${itemList}` }, [
            { stepKey: keyOf('reserve-stock'), orderId },
          ]),
      },
    );
    state.totalCents = reservation.totalCents;
    if (patched(orderTotalPatch)) {
      upsertSearchAttributes([{ key: orderTotalAttribute, value: reservation.totalCents / 100 }]);
    }

    if (reservation.totalCents > input.approvalThresholdCents) {
      await awaitApproval(input.approvalThresholdCents);
    } else {
      decideAcceptance('accepted');
    }

    const paymentDeadline = deadlineIn(deadlines.payment, 'payment');
    const payment = await runStep(
      'charge-payment',
      () =>
        untilAnswered('charge-payment', paymentDeadline, (options) =>
          steps.payments.chargePayment.executeWithOptions(
            { ...options, summary: `Charge ${formatCents(reservation.totalCents)}` },
            [
              {
                key: keyOf('charge-payment'),
                orderId,
                amountCents: reservation.totalCents,
                paymentToken: input.paymentToken,
              },
            ],
          ),
        ),
      {
        compensation: 'refund-payment',
        run: () =>
          compensations.payments.refundPayment.executeWithOptions(
            {
              // A charge whose retries ran out has no payment id here: the refund finds it, or finds nothing.
              summary: state.paymentId
                ? `Refund ${totalText()} (payment ${state.paymentId})`
                : `Refund any charge of ${totalText()} for order ${orderId}`,
            },
            [{ stepKey: keyOf('charge-payment'), orderId }],
          ),
      },
    );
    state.paymentId = payment.paymentId;

    const shipmentDeadline = deadlineIn(deadlines.shipment, 'shipment');
    const shipment = await runStep(
      'create-shipment',
      () =>
        untilAnswered('create-shipment', shipmentDeadline, (options) =>
          // The summary names the country only: summaries are shown to anyone who can open the run.
          steps.shipping.createShipment.executeWithOptions(
            { ...options, summary: `Ship ${itemCount} item(s) to ${input.shippingAddress.country}` },
            [{ key: keyOf('create-shipment'), orderId, address: input.shippingAddress, itemCount }],
          ),
        ),
      {
        compensation: 'cancel-shipment',
        run: () =>
          compensations.shipping.cancelShipment.executeWithOptions(
            { summary: state.shipmentId ? `Cancel shipment ${state.shipmentId}` : `Cancel any shipment of ${orderId}` },
            [{ stepKey: keyOf('create-shipment'), orderId }],
          ),
      },
    );
    state.shipmentId = shipment.shipmentId;
    state.trackingNumber = shipment.trackingNumber;
    state.shippingRate = shipment.rate;

    // The point of no return: once the confirmation has begun it is never unwound. Its activities wait out any
    // transient trouble for as long as it lasts (no deadline), visibly; only a business answer (the stock was
    // already released, say) can still stop the order, and then nothing was confirmed.
    await runStep('confirm-order', async () => {
      // The stock is committed before the order is confirmed, not after: if
      // either fails, the saga unwinds an order that is still pending (and
      // releasing stock also returns a committed reservation), whereas a
      // confirmed order has nothing left to unwind.
      if (patched(commitReservationPatch)) {
        await untilAnswered('confirm-order', noDeadline, (options) =>
          steps.inventory.commitReservation.executeWithOptions(
            { ...options, summary: `Commit the stock of ${itemList}` },
            [{ key: commitReservationKeyOf(keyOf('confirm-order')), stepKey: keyOf('reserve-stock'), orderId }],
          ),
        );
      }
      return untilAnswered('confirm-order', noDeadline, (options) =>
        steps.orders.confirmOrder.executeWithOptions(
          {
            ...options,
            summary: `Confirm order ${orderId}: ${formatCents(reservation.totalCents)}, shipment ${shipment.shipmentId}`,
          },
          [
            {
              key: keyOf('confirm-order'),
              orderId,
              totalCents: reservation.totalCents,
              paymentId: payment.paymentId,
              shipmentId: shipment.shipmentId,
              shippingRate: shipment.rate,
            },
          ],
        ),
      );
    });
    publish('confirmed');
    orderOutcomes.add(1, { outcome: 'confirmed' });
    log.info('Order confirmed', { totalCents: reservation.totalCents });
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    return state;
  } catch (error) {
    if (!(error instanceof SagaStop)) throw error;
    state.failure = error.failure;
    log.warn('Order saga stopped; compensating', { ...error.failure, compensations: stack.length });
    await CancellationScope.nonCancellable(compensate);
    const cancelled = error.failure.type === orderFailureTypes.cancelled;
    publish(cancelled ? 'cancelled' : 'failed');
    orderOutcomes.add(1, { outcome: cancelled ? 'cancelled' : 'failed' });
    log.info(cancelled ? 'Order cancelled' : 'Order failed', { step: error.failure.step });
    decideAcceptance('rejected');
    // Placements and cancellations waiting for this moment answer before the run closes.
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    throw ApplicationFailure.create({
      type: cancelled ? orderFailureTypes.cancelled : orderFailureTypes.failed,
      message: `Order ${orderId} ${cancelled ? 'cancelled' : 'failed'} at ${error.failure.step}: ${error.failure.message}`,
      nonRetryable: true,
      details: [state],
    });
  }
}

/**
 * What kept a round of retries from an answer, when another round may get
 * one; null when it will not (a business answer, or a non-retryable failure,
 * which is a bug that retrying repeats).
 */
function transientTrouble(error: ActivityFailure, workerWaitLimit: string): string | null {
  const cause = error.cause;
  if (cause instanceof TimeoutFailure) {
    return cause.timeoutType === 'SCHEDULE_TO_START'
      ? `no worker took ${error.activityType} from its task queue within ${workerWaitLimit}: its workers are down or all busy`
      : `${error.activityType} timed out (${cause.timeoutType})`;
  }
  if (cause instanceof ApplicationFailure && (cause.nonRetryable || isRejectionType(cause.type ?? undefined))) {
    return null;
  }
  if (error.retryState === 'NON_RETRYABLE_FAILURE') return null;
  return cause?.message ?? error.message;
}

/** What stopped a step: a service's rejection, or retries that ran out. */
function toOrderFailure(step: OrderStep, error: unknown): OrderFailure {
  if (!(error instanceof ActivityFailure)) throw error;
  const cause = error.cause;
  if (cause instanceof ApplicationFailure && isRejectionType(cause.type ?? undefined)) {
    return { step, type: cause.type!, message: cause.message };
  }
  return {
    step,
    type: orderFailureTypes.stepFailed,
    message: `${step} did not succeed within its retry budget: ${cause?.message ?? error.message}`,
  };
}
