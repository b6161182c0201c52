import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { rejectionTypes } from '../domain/rejections';
import type { OrderItem, ShippingAddress } from '../domain/order';
import { defaultOrderDeadlines, stepTimeoutMs, type OrderDeadlines } from '../domain/deadlines';
import type { ShippingRate } from '../domain/shipping-rate';

/** The order workflow's name, as the client starts it and the Web UI lists it. */
export const orderWorkflowType = 'orderSaga';

export interface OrderSagaInput {
  orderId: string;
  customerId: string;
  items: OrderItem[];
  paymentToken: string;
  shippingAddress: ShippingAddress;
  /** Orders whose total exceeds this wait for an operator's decision before payment. */
  approvalThresholdCents: number;
  /** How long to wait for that decision before the order is rejected, e.g. '24h'. */
  approvalTimeout: string;
  /** Business deadlines of the steps that may wait out an outage; runs started without them use {@link defaultOrderDeadlines}. */
  deadlines?: OrderDeadlines;
  /**
   * How long a step's task may sit in its task queue before the order says it waits for a worker of that service
   * (default {@link defaultWorkerWaitLimit}). The task is then scheduled again: a worker that comes back picks it up.
   */
  workerWaitLimit?: string;
}

export const defaultWorkerWaitLimit = '1m';

// Defined with the domain so that config.ts, which checks its budgets against them, need not import the workflow.
export { defaultOrderDeadlines, stepTimeoutMs, type OrderDeadlines };

export const orderSteps = [
  'create-order',
  'reserve-stock',
  'await-approval',
  'charge-payment',
  'create-shipment',
  'confirm-order',
] as const;
export type OrderStep = (typeof orderSteps)[number];

export const compensationNames = ['cancel-order', 'release-stock', 'refund-payment', 'cancel-shipment'] as const;
export type CompensationName = (typeof compensationNames)[number];

export type OrderStatus =
  'running' | 'awaiting-approval' | 'compensating' | 'needs-attention' | 'confirmed' | 'cancelled' | 'failed';

export const finalStatuses: readonly OrderStatus[] = ['confirmed', 'cancelled', 'failed'];

/**
 * Counters the saga emits through the workflow metric meter (not counted again on replay); the orders worker's
 * runtime exports them to Prometheus.
 * - outcomes: one per finished order, attribute `outcome` = confirmed | failed | cancelled.
 * - compensations: one per compensation run that ended, attributes `step`, `compensation` and
 *   `outcome` = completed | failed | resolved-manually.
 */
export const sagaMetricNames = {
  outcomes: 'order_saga_outcomes',
  compensations: 'order_saga_compensations',
  /** One per round of retries that ended without an answer, attribute `step`: an order waiting, not failing. */
  stepWaits: 'order_saga_step_waits',
} as const;

export type CompensationStatus = 'pending' | 'running' | 'completed' | 'failed' | 'resolved-manually';

export interface CompensationRecord {
  step: OrderStep;
  compensation: CompensationName;
  status: CompensationStatus;
  /** How many times the compensation was run (each run has its own activity retry budget). */
  runs: number;
  lastError?: string;
  operatorNote?: string;
}

export interface OrderFailure {
  step: OrderStep;
  /** A rejection type (e.g. PaymentDeclined), OrderCancelled, StepDeadlineExceeded, or StepFailed (see orderFailureTypes). */
  type: string;
  message: string;
}

/** A step that keeps meeting transient trouble: the order waits, visibly, instead of failing. */
export interface StepWait {
  step: OrderStep;
  /** When the step's first round of retries ended without an answer (ISO 8601). */
  since: string;
  /** The last transient failure, e.g. "Payment gateway answered 503: …" or "no worker of order-saga.payments …". */
  reason: string;
  /** Rounds of retries that ended without an answer so far. */
  rounds: number;
  /** When the order fails if the step has still not succeeded (ISO 8601); null for the confirmation, retried until done. */
  deadline: string | null;
}

export interface OrderSagaState {
  orderId: string;
  status: OrderStatus;
  currentStep: OrderStep | null;
  completedSteps: OrderStep[];
  compensations: CompensationRecord[];
  totalCents: number | null;
  paymentId: string | null;
  shipmentId: string | null;
  trackingNumber: string | null;
  /** What the parcel costs the shop: the carrier's quote, or the flat rate if the carrier could not quote. */
  shippingRate: ShippingRate | null;
  failure: OrderFailure | null;
  cancellationReason: string | null;
  /** Set while the current step waits out transient trouble; null once it has an answer. */
  waiting: StepWait | null;
}

export interface CancelOrderRequest {
  reason: string;
}

export interface ApprovalDecision {
  approved: boolean;
  decidedBy: string;
  comment?: string;
}

export interface OperatorResolution {
  /** retry: run the failed compensation again; mark-resolved: it was done by hand. */
  action: 'retry' | 'mark-resolved';
  note: string;
}

/**
 * Memo fields of an order's run, written by the API when it starts the run
 * (the Web UI shows them). The workflow reads two of them back: a placement
 * must match the body that started the run, and only the placement that
 * started it is not a repeat.
 */
export const orderMemoFields = {
  /** The X-Request-Id of the request that placed the order. */
  requestId: 'requestId',
  /** The fingerprint of that request's body: a repeat of its Idempotency-Key must send the same order. */
  requestFingerprint: 'requestFingerprint',
  /** The id of that request's placeOrder update, when it placed the order with one (early-return mode). */
  placementUpdateId: 'placementUpdateId',
  /** Whose order it is, readable with one describe() from the moment the run starts (who may read or cancel it). */
  customerId: 'customerId',
} as const;

export interface OrderPlacement {
  /** The fingerprint of the placing request's body, compared with the one in the run's memo. */
  requestFingerprint: string;
}

/**
 * How the order stood once the saga decided whether to take it: accepted (the
 * order row exists and the stock is reserved; it may await approval), or
 * rejected (stopped before that, and compensated). Every placement of the
 * order gets this same answer.
 */
export interface OrderAcceptance {
  outcome: 'accepted' | 'rejected';
  /** The saga's state at that moment (for a rejection: once its compensations ended or need an operator). */
  state: OrderSagaState;
}

export interface OrderPlacementAnswer extends OrderAcceptance {
  /** False only for the placement that started the run; true for repeats of its Idempotency-Key. */
  repeated: boolean;
}

export const getOrderState = defineQuery<OrderSagaState>('getOrderState');

/** The acceptance, once there is one (null before): repeats of a placement after the run closed are answered from it. */
export const getOrderAcceptance = defineQuery<OrderAcceptance | null>('getOrderAcceptance');

/**
 * Sent with the run's start (update-with-start) and by repeats of the same
 * request: completes with the acceptance. Refused when the body's fingerprint
 * differs from the one that started the run.
 */
export const placeOrder = defineUpdate<OrderPlacementAnswer, [OrderPlacement]>('placeOrder');

/**
 * Accepted while the order is still before its confirmation; refused (409)
 * afterwards. Completes once the cancellation has run its course: the order
 * cancelled and its compensations done, or one of them waiting for an operator.
 */
export const cancelOrder = defineUpdate<OrderSagaState, [CancelOrderRequest]>('cancelOrder');

/** Accepted only while the order awaits approval. */
export const decideApproval = defineUpdate<OrderSagaState, [ApprovalDecision]>('decideApproval');

/** Accepted only while a compensation needs attention. */
export const resolveCompensation = defineUpdate<OrderSagaState, [OperatorResolution]>('resolveCompensation');

/**
 * The update id of an approval decision: one per decision, so an operator's retry of an approve (its first answer lost
 * to a timeout) joins the first update instead of being refused as "not awaiting approval", while the other decision
 * is still refused by the validator.
 */
export const approvalUpdateId = (approved: boolean): string => (approved ? 'approve-order' : 'reject-order');

/**
 * Failure types of the saga itself, beside the services' rejection types: a
 * run ends failed with type OrderCancelled or OrderFailed, and its state's
 * `failure.type` says what stopped it.
 */
export const orderFailureTypes = {
  cancelled: 'OrderCancelled',
  failed: 'OrderFailed',
  approvalTimedOut: 'ApprovalTimedOut',
  approvalRejected: 'ApprovalRejected',
  /**
   * A step whose retries ran out without a business answer: runs started before steps waited out transient trouble
   * (and steps that failed with a non-retryable error that is not a business answer, i.e. a bug).
   */
  stepFailed: 'StepFailed',
  /** A step that kept meeting transient trouble until its business deadline passed. */
  deadlineExceeded: 'StepDeadlineExceeded',
} as const;

/** Why the workflow refuses a placeOrder update: the same Idempotency-Key with another body. */
export const idempotencyKeyReusedType = rejectionTypes.idempotencyKeyReused;

/**
 * Why the workflow's validators refuse an update whose payload is malformed: sent past the API, from the Temporal
 * CLI, the Web UI or another SDK (src/workflows/message-validation.ts).
 */
export const invalidOrderMessageType = 'InvalidOrderMessage';

/** Longest texts the updates take, in UTF-16 code units as zod counts them: the API's schemas and the validators. */
export const orderMessageLimits = {
  cancellationReason: 500,
  decidedBy: 100,
  approvalComment: 500,
  operatorNote: 1000,
  /** The API sends `sha256:` and 64 hex digits; the rest is headroom for another digest. */
  requestFingerprint: 256,
} as const;
