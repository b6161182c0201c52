import type { ShippingRate } from '../../src/domain/shipping-rate';
import type {
  CompensationName,
  CompensationRecord,
  OrderFailure,
  OrderSagaState,
  OrderStatus,
  OrderStep,
} from '../../src/workflows/definitions';

/** What changed between two readings of an order's saga state. */
export type SagaEvent =
  | { type: 'status'; from: OrderStatus | null; to: OrderStatus }
  | { type: 'step-started'; step: OrderStep }
  | { type: 'step-completed'; step: OrderStep }
  | { type: 'total'; totalCents: number }
  | { type: 'payment'; paymentId: string }
  | { type: 'shipment'; shipmentId: string; trackingNumber: string | null }
  | { type: 'shipping-rate'; rate: ShippingRate }
  | { type: 'failure'; failure: OrderFailure }
  | { type: 'cancellation'; reason: string }
  | { type: 'compensation-plan'; compensations: CompensationName[] }
  | { type: 'compensation'; record: CompensationRecord };

function sameRecord(a: CompensationRecord | undefined, b: CompensationRecord): boolean {
  return (
    a !== undefined &&
    a.compensation === b.compensation &&
    a.status === b.status &&
    a.runs === b.runs &&
    a.lastError === b.lastError &&
    a.operatorNote === b.operatorNote
  );
}

/**
 * The events between two readings, in the order they happened as far as one
 * reading can tell: steps that finished, what they produced, a failure, then
 * the compensations and the step now running, with the new status before them
 * if it starts them and after them if they led to it. A poll can
 * miss a short step's start; its completion is never missed, since completed
 * steps only grow.
 */
export function sagaEvents(previous: OrderSagaState | undefined, next: OrderSagaState): SagaEvent[] {
  const events: SagaEvent[] = [];
  const before = previous?.completedSteps ?? [];
  for (const step of next.completedSteps.slice(before.length)) events.push({ type: 'step-completed', step });

  if (next.totalCents !== null && next.totalCents !== previous?.totalCents) {
    events.push({ type: 'total', totalCents: next.totalCents });
  }
  if (next.paymentId !== null && next.paymentId !== previous?.paymentId) {
    events.push({ type: 'payment', paymentId: next.paymentId });
  }
  if (next.shipmentId !== null && next.shipmentId !== previous?.shipmentId) {
    events.push({ type: 'shipment', shipmentId: next.shipmentId, trackingNumber: next.trackingNumber });
  }
  if (next.shippingRate && !previous?.shippingRate) events.push({ type: 'shipping-rate', rate: next.shippingRate });
  if (next.failure && !previous?.failure) events.push({ type: 'failure', failure: next.failure });
  if (next.cancellationReason !== null && !previous?.cancellationReason) {
    events.push({ type: 'cancellation', reason: next.cancellationReason });
  }
  // A status that starts something (running, compensating) comes before what it starts; one that ends or
  // pauses the saga comes after what led to it.
  const status: SagaEvent | undefined =
    next.status === previous?.status ? undefined : { type: 'status', from: previous?.status ?? null, to: next.status };
  const statusLeads = !previous || next.status === 'running' || next.status === 'compensating';
  if (status && statusLeads) events.push(status);

  const earlier = previous?.compensations ?? [];
  if (next.compensations.length > 0 && earlier.length === 0) {
    events.push({ type: 'compensation-plan', compensations: next.compensations.map((record) => record.compensation) });
  }
  next.compensations.forEach((record, index) => {
    // Pending is announced by the plan; later changes each get a line.
    if (earlier.length === 0 && record.status === 'pending') return;
    if (!sameRecord(earlier[index], record)) events.push({ type: 'compensation', record: { ...record } });
  });

  if (next.currentStep !== null && next.currentStep !== previous?.currentStep) {
    events.push({ type: 'step-started', step: next.currentStep });
  }
  if (status && !statusLeads) events.push(status);
  return events;
}
