/**
 * An order's view as a pure function of the set of its events: {@link foldOrder}.
 *
 * Why a fold over the whole set, recomputed on every arrival, rather than
 * updating the view event by event: delivery is at least once and only in
 * order per aggregate (the four services' relays run independently, and a
 * rebuild or a re-drive replays old events). A function of the set cannot be
 * changed by a duplicate, and fixing the order the set is folded in
 * ({@link canonicalOrder}) makes it independent of arrival order too, within
 * and across aggregates. An order has a handful of events, so the refold is
 * cheap.
 *
 * What the view can say is what the services recorded. The saga's own states
 * (awaiting-approval, needs-attention, a compensation in progress) live in the
 * workflow, not in any service; here they show as what has and has not
 * happened yet, e.g. a charged payment with no refund on an order that is
 * still pending.
 */
import type { DomainEvent } from '../events';

/**
 * - pending: created, neither confirmed nor cancelled, nothing compensated yet
 *   (also while a payment is declined or a step failed, until the saga undoes
 *   something);
 * - compensating: a compensation was recorded (stock released, payment
 *   refunded or shipment cancelled) and the order is not cancelled yet;
 * - confirmed, cancelled: what the orders service decided.
 */
export const orderViewStatuses = ['pending', 'compensating', 'confirmed', 'cancelled'] as const;
export type OrderViewStatus = (typeof orderViewStatuses)[number];

export const reservationStatuses = ['reserved', 'committed', 'released'] as const;
export type ReservationStatus = (typeof reservationStatuses)[number];
export const paymentStatuses = ['charged', 'declined', 'refunded'] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];
export const shipmentStatuses = ['created', 'cancelled'] as const;
export type ShipmentStatus = (typeof shipmentStatuses)[number];

export interface OrderViewItem {
  sku: string;
  quantity: number;
  /** The price the stock was reserved at; null until then. */
  unitPriceCents: number | null;
}

/** The fields of an order's view (the OrderView row, with `items` as a value rather than JSON text). */
export interface FoldedOrder {
  orderId: string;
  workflowId: string;
  status: OrderViewStatus;
  customerId: string | null;
  currency: string | null;
  items: OrderViewItem[];
  itemCount: number;
  totalCents: number | null;
  reservationId: string | null;
  reservationStatus: ReservationStatus | null;
  paymentId: string | null;
  paymentStatus: PaymentStatus | null;
  paymentAmountCents: number | null;
  declineReason: string | null;
  shipmentId: string | null;
  shipmentStatus: ShipmentStatus | null;
  carrier: string | null;
  trackingNumber: string | null;
  shippingCents: number | null;
  shippingRateSource: string | null;
  stockReleased: boolean;
  paymentRefunded: boolean;
  shipmentCancelled: boolean;
  cancelReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastEventId: string;
  lastEventType: string;
  lastAggregateVersion: number;
  eventCount: number;
}

/** Earlier first: by occurredAt, then by id (ULIDs sort by creation time within a process). */
function compareOccurrence(a: DomainEvent, b: DomainEvent): number {
  const byTime = Date.parse(a.occurredAt) - Date.parse(b.occurredAt);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The one order every fold uses, whatever order the events arrived in: each
 * aggregate's events by aggregateVersion (the order its service wrote them,
 * which clocks of different processes cannot contradict), and the aggregates
 * interleaved by occurredAt then event id (a merge of the per-aggregate
 * sequences, so a skewed clock never puts an aggregate's events out of order).
 * Events with the same id count once.
 */
export function canonicalOrder(events: readonly DomainEvent[]): DomainEvent[] {
  const byAggregate = new Map<string, DomainEvent[]>();
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const key = `${event.aggregateType}/${event.aggregateId}`;
    const sequence = byAggregate.get(key) ?? [];
    sequence.push(event);
    byAggregate.set(key, sequence);
  }
  const sequences = [...byAggregate.values()].map((sequence) =>
    sequence.sort((a, b) => a.aggregateVersion - b.aggregateVersion || compareOccurrence(a, b)),
  );
  const merged: DomainEvent[] = [];
  const heads = sequences.map(() => 0);
  for (let remaining = seen.size; remaining > 0; remaining -= 1) {
    let next = -1;
    for (const [index, sequence] of sequences.entries()) {
      const head = sequence[heads[index] ?? 0];
      if (!head) continue;
      const best = next === -1 ? undefined : sequences[next]?.[heads[next] ?? 0];
      if (!best || compareOccurrence(head, best) < 0) next = index;
    }
    const sequence = sequences[next] ?? [];
    merged.push(sequence[heads[next] ?? 0] as DomainEvent);
    heads[next] = (heads[next] ?? 0) + 1;
  }
  return merged;
}

/** Thrown for an empty or mixed set: a view is of exactly one order. */
export class NotOneOrder extends Error {
  override name = 'NotOneOrder';
}

/**
 * The view of one order from all its events (in any order, duplicates
 * allowed). Each field is owned by one aggregate and set from its events in
 * version order, so the result does not depend on how aggregates interleave;
 * OrderConfirmed repeats the payment, shipment and total, with the same values.
 */
export function foldOrder(events: readonly DomainEvent[]): FoldedOrder {
  const ordered = canonicalOrder(events);
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  if (!first || !last) throw new NotOneOrder('An order view needs at least one event');
  const { orderId, workflowId } = first.correlation;
  const other = ordered.find((event) => event.correlation.orderId !== orderId);
  if (other) throw new NotOneOrder(`Event ${other.id} is of order ${other.correlation.orderId}, not ${orderId}`);

  let orderDecision: 'confirmed' | 'cancelled' | null = null;
  let createdItems: { sku: string; quantity: number }[] | null = null;
  let reservedLines: { sku: string; quantity: number; unitPriceCents: number }[] | null = null;
  let confirmedTotal: number | null = null;
  let reservedTotal: number | null = null;
  const view = {
    customerId: null as string | null,
    currency: null as string | null,
    reservationId: null as string | null,
    reservationStatus: null as ReservationStatus | null,
    paymentId: null as string | null,
    paymentStatus: null as PaymentStatus | null,
    paymentAmountCents: null as number | null,
    declineReason: null as string | null,
    shipmentId: null as string | null,
    shipmentStatus: null as ShipmentStatus | null,
    carrier: null as string | null,
    trackingNumber: null as string | null,
    shippingCents: null as number | null,
    shippingRateSource: null as string | null,
    stockReleased: false,
    paymentRefunded: false,
    shipmentCancelled: false,
    cancelReason: null as string | null,
  };

  for (const event of ordered) {
    switch (event.type) {
      case 'OrderCreated':
        view.customerId = event.payload.customerId;
        view.currency = event.payload.currency;
        createdItems = event.payload.items;
        break;
      case 'OrderConfirmed':
        orderDecision = 'confirmed';
        confirmedTotal = event.payload.totalCents;
        view.currency = event.payload.currency;
        view.paymentId = event.payload.paymentId;
        view.shipmentId = event.payload.shipmentId;
        view.shippingCents = event.payload.shippingRate.amountCents;
        view.shippingRateSource = event.payload.shippingRate.source;
        break;
      case 'OrderCancelled':
        orderDecision = 'cancelled';
        view.cancelReason = event.payload.reason;
        break;
      case 'StockReserved':
        view.reservationId = event.aggregateId;
        view.reservationStatus = 'reserved';
        reservedLines = event.payload.lines;
        reservedTotal = event.payload.totalCents;
        break;
      case 'StockCommitted':
        view.reservationId = event.aggregateId;
        view.reservationStatus = 'committed';
        break;
      case 'StockReleased':
        view.reservationId = event.aggregateId;
        view.reservationStatus = 'released';
        view.stockReleased = true;
        break;
      case 'PaymentCharged':
        view.paymentId = event.aggregateId;
        view.paymentStatus = 'charged';
        view.paymentAmountCents = event.payload.amountCents;
        break;
      case 'PaymentDeclined':
        view.paymentId = event.aggregateId;
        view.paymentStatus = 'declined';
        view.paymentAmountCents = event.payload.amountCents;
        view.declineReason = event.payload.reason;
        break;
      case 'PaymentRefunded':
        view.paymentId = event.aggregateId;
        view.paymentStatus = 'refunded';
        view.paymentRefunded = true;
        break;
      case 'ShipmentCreated':
        view.shipmentId = event.aggregateId;
        view.shipmentStatus = 'created';
        view.carrier = event.payload.carrier;
        view.trackingNumber = event.payload.trackingNumber;
        view.shippingCents = event.payload.rate.amountCents;
        view.shippingRateSource = event.payload.rate.source;
        break;
      case 'ShipmentCancelled':
        view.shipmentId = event.aggregateId;
        view.shipmentStatus = 'cancelled';
        view.shipmentCancelled = true;
        view.trackingNumber = event.payload.trackingNumber;
        break;
    }
  }

  const priceOf = new Map((reservedLines ?? []).map((line) => [line.sku, line.unitPriceCents]));
  const items: OrderViewItem[] = (createdItems ?? reservedLines ?? []).map(({ sku, quantity }) => ({
    sku,
    quantity,
    unitPriceCents: priceOf.get(sku) ?? null,
  }));
  const compensated = view.stockReleased || view.paymentRefunded || view.shipmentCancelled;
  const times = ordered.map((event) => Date.parse(event.occurredAt));
  return {
    orderId,
    workflowId,
    status: orderDecision ?? (compensated ? 'compensating' : 'pending'),
    ...view,
    items,
    itemCount: items.reduce((count, item) => count + item.quantity, 0),
    totalCents: confirmedTotal ?? reservedTotal,
    createdAt: new Date(Math.min(...times)),
    updatedAt: new Date(Math.max(...times)),
    lastEventId: last.id,
    lastEventType: last.type,
    lastAggregateVersion: last.aggregateVersion,
    eventCount: ordered.length,
  };
}
