import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { OrderItem, ShippingAddress } from '../domain/order';
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
}

/**
 * A step attempt's start-to-close timeout. The payments worker's gateway
 * budget (queue wait plus call) is checked against it at start-up.
 */
export const stepTimeoutMs = 10_000;

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
  /** A rejection type (e.g. PaymentDeclined), OrderCancelled, or StepFailed for exhausted retries. */
  type: string;
  message: string;
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

export const getOrderState = defineQuery<OrderSagaState>('getOrderState');

/** Accepted while the order is still before its confirmation; rejected (409) afterwards. */
export const cancelOrder = defineUpdate<OrderSagaState, [CancelOrderRequest]>('cancelOrder');

/** Accepted only while the order awaits approval. */
export const decideApproval = defineUpdate<OrderSagaState, [ApprovalDecision]>('decideApproval');

/** Accepted only while a compensation needs attention. */
export const resolveCompensation = defineUpdate<OrderSagaState, [OperatorResolution]>('resolveCompensation');

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
  /** A step whose retries ran out without a business answer. */
  stepFailed: 'StepFailed',
} as const;
