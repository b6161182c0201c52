import { log, metricMeter, patched, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Shipment } from '../activities/shipping';
import { formatCents } from '../domain/money';
import { describeShippingRate } from '../domain/shipping-rate';
import {
  customerIdAttribute,
  needsAttentionAttribute,
  orderIdAttribute,
  orderStatusAttribute,
  orderTotalAttribute,
  orderWaitingOnAttribute,
} from '../temporal/search-attributes';
import {
  finalStatuses,
  getOrderAcceptance,
  getOrderState,
  orderFailureTypes,
  sagaMetricNames,
  type CancelOrderRequest,
  type CompensationRecord,
  type OrderAcceptance,
  type OrderFailure,
  type OrderSagaInput,
  type OrderSagaState,
  type OrderStatus,
  type OrderStep,
  type StepWait,
} from './definitions';
import { sagaPatches } from './patches';

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

/** Where a stopped saga rests until something changes: finished, or waiting for an operator. */
const settledStatuses: readonly OrderStatus[] = [...finalStatuses, 'needs-attention'];

/** Ends the saga's forward path with a known reason; caught by the saga itself. */
export class SagaStop extends Error {
  override name = 'SagaStop';
  constructor(readonly failure: OrderFailure) {
    super(failure.message);
  }
}

/**
 * The order's state as the saga keeps it, and everything the saga publishes about it: the getOrderState and
 * getOrderAcceptance queries (registered on construction), the search attributes, the Web UI's current details and
 * the saga's metrics. Every change that someone outside may see goes through here.
 */
export class SagaState {
  /** What getOrderState answers. */
  readonly state: OrderSagaState;
  /** The first cancellation asked for, by the cancelOrder update or by cancelling the run. */
  cancellation: CancelOrderRequest | undefined;
  /** Whether the order was taken, once decided: every placement gets this answer. */
  acceptance: OrderAcceptance | null = null;

  constructor(orderId: string) {
    this.state = {
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
    setHandler(getOrderState, () => this.state);
    setHandler(getOrderAcceptance, () => this.acceptance);
  }

  /** The order's identity as search attributes, and the saga running. */
  begin(input: OrderSagaInput): void {
    upsertSearchAttributes([
      { key: orderIdAttribute, value: input.orderId },
      { key: customerIdAttribute, value: input.customerId },
    ]);
    this.publish('running');
    log.info('Order saga started', { customerId: input.customerId, items: input.items.length });
  }

  /** A copy, so later changes to the state do not rewrite an answer already decided. */
  snapshot(): OrderSagaState {
    return JSON.parse(JSON.stringify(this.state)) as OrderSagaState;
  }

  /** Finished, or waiting for an operator. */
  settled(): boolean {
    return settledStatuses.includes(this.state.status);
  }

  /** The first decision wins: a rejection after an acceptance (a later failure) does not change the answer. */
  decideAcceptance(outcome: OrderAcceptance['outcome']): void {
    this.acceptance ??= { outcome, state: this.snapshot() };
  }

  requestCancellation(request: CancelOrderRequest): void {
    this.cancellation ??= request;
    this.state.cancellationReason ??= request.reason;
  }

  /** Stops the forward path before `nextStep` if a cancellation was asked for. */
  stopIfCancelled(nextStep: OrderStep): void {
    if (this.cancellation) {
      throw new SagaStop({ step: nextStep, type: orderFailureTypes.cancelled, message: this.cancellation.reason });
    }
  }

  publish(status: OrderStatus): void {
    this.state.status = status;
    upsertSearchAttributes([
      { key: orderStatusAttribute, value: status },
      { key: needsAttentionAttribute, value: status === 'needs-attention' },
    ]);
    this.describeProgress();
  }

  /** The order's end: its status, and the outcome counted once. */
  finish(outcome: 'confirmed' | 'cancelled' | 'failed'): void {
    this.publish(outcome);
    orderOutcomes.add(1, { outcome });
  }

  enterStep(step: OrderStep): void {
    this.state.currentStep = step;
    this.describeProgress();
  }

  leaveStep(): void {
    this.state.currentStep = null;
    this.stopWaiting();
  }

  /** The reserved total, searchable as `OrderTotal` in runs that passed the patch. */
  recordTotal(totalCents: number): void {
    this.state.totalCents = totalCents;
    if (patched(sagaPatches.orderTotalSearchAttribute)) {
      upsertSearchAttributes([{ key: orderTotalAttribute, value: totalCents / 100 }]);
    }
  }

  recordPayment({ paymentId }: { paymentId: string }): void {
    this.state.paymentId = paymentId;
  }

  recordShipment({ shipmentId, trackingNumber, rate }: Shipment): void {
    this.state.shipmentId = shipmentId;
    this.state.trackingNumber = trackingNumber;
    this.state.shippingRate = rate;
  }

  /** Says, visibly, that `step` waits out transient trouble: one more round of retries ended without an answer. */
  wait(step: OrderStep, reason: string, deadline: number | null): void {
    const waiting: StepWait = {
      step,
      since: this.state.waiting?.since ?? new Date().toISOString(),
      reason,
      rounds: (this.state.waiting?.rounds ?? 0) + 1,
      deadline: deadline === null ? null : new Date(deadline).toISOString(),
    };
    if (this.state.waiting === null) upsertSearchAttributes([{ key: orderWaitingOnAttribute, value: step }]);
    this.state.waiting = waiting;
    stepWaits.add(1, { step });
    if (waiting.rounds > 1) {
      log.info('The order still waits', { ...waiting });
    } else if (deadline === null) {
      // Past the point of no return nothing is undone: this order needs someone to make the service answer.
      log.error('The order waits at its point of no return', { ...waiting });
    } else {
      log.warn('The order waits out transient trouble', { ...waiting });
    }
    this.describeProgress();
  }

  stopWaiting(): void {
    if (this.state.waiting === null) return;
    this.state.waiting = null;
    upsertSearchAttributes([{ key: orderWaitingOnAttribute, value: null }]);
  }

  /** Counts a compensation run that ended. */
  countCompensation(
    { step, compensation }: CompensationRecord,
    outcome: 'completed' | 'failed' | 'resolved-manually',
  ): void {
    compensationRuns.add(1, { step, compensation, outcome });
  }

  /** The Web UI's current details of the run: status, step, total, waiting, failure and compensations. */
  describeProgress(): void {
    const { state } = this;
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
}
