/**
 * Every domain event the services write: its aggregate, and its payload's
 * schema at each version, oldest first, with the upcasters between them. The
 * outbox writes the last version; readers get every stored event upcast to
 * it (upcast.ts). The events carry what a read model of orders needs without
 * asking a service: amounts, currencies, lines, references to the other
 * services' aggregates.
 *
 * Conventions:
 * - The aggregate's own id is the envelope's aggregateId (ord_…, res_…,
 *   pay_…, shp_…) and is not repeated in the payload; ids of other
 *   aggregates are (OrderConfirmed's paymentId and shipmentId).
 * - Amounts are integer cents.
 * - Reasons appear where the service is told one: an order's cancellation
 *   carries the saga's reason, a decline the card issuer's. The other
 *   compensations are told only which step to undo, so they carry none.
 * - A schema changes by adding a version and its upcaster, never by editing
 *   a version that may have been stored. Adding an optional field is also a
 *   new version: readers of the old one would drop it silently.
 */
import { z } from 'zod';
import type { ShippingRate } from '../domain/shipping-rate';
import { defineEvent, type AnyEventDefinition } from './define';
import type { EventEnvelope } from './envelope';

const cents = z.number().int().nonnegative();
const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. USD');
const stockLine = z.object({ sku: z.string().min(1), quantity: z.number().int().positive() });
const pricedLine = stockLine.extend({ unitPriceCents: cents });

const shippingRate = z.discriminatedUnion('source', [
  z.object({ source: z.literal('carrier-quote'), amountCents: cents, quoteId: z.string(), service: z.string() }),
  z.object({ source: z.literal('flat-rate'), amountCents: cents, reason: z.string() }),
]) satisfies z.ZodType<ShippingRate>;

const orderCreatedV1 = z.object({ customerId: z.string().min(1), items: z.array(stockLine).min(1) });

/**
 * v2 adds the order's currency, so that a read model can state the order's
 * amounts (which later events give in cents) without assuming one.
 */
const orderCreatedV2 = orderCreatedV1.extend({ currency: currencyCode });

/**
 * The currency of every order created before OrderCreated v2: USD, the
 * Order.currency column's default and the only currency the shop charged in.
 * A fact about the past, so not the shop's `currency` setting, which may
 * change without changing what old orders were in.
 */
const currencyBeforeOrderCreatedV2 = 'USD';

export const eventCatalogue = {
  // orders service
  OrderCreated: defineEvent(
    'Order',
    [orderCreatedV1, orderCreatedV2],
    [(v1) => ({ ...v1, currency: currencyBeforeOrderCreatedV2 })],
  ),
  OrderConfirmed: defineEvent(
    'Order',
    [
      z.object({
        /** What the customer was charged: the reservation's total. */
        totalCents: cents,
        currency: currencyCode,
        paymentId: z.string().min(1),
        shipmentId: z.string().min(1),
        /** What the shop pays the carrier for the parcel (never charged to the customer). */
        shippingRate,
      }),
    ],
    [],
  ),
  OrderCancelled: defineEvent('Order', [z.object({ reason: z.string() })], []),

  // inventory service
  StockReserved: defineEvent('Reservation', [z.object({ lines: z.array(pricedLine).min(1), totalCents: cents })], []),
  /** The reserved stock is sold: it stays out of `available` for good. */
  StockCommitted: defineEvent('Reservation', [z.object({ lines: z.array(stockLine).min(1) })], []),
  /**
   * The stock is back on the shelf. Whether it had been sold shows in the
   * aggregate's history (a StockCommitted before it): a field could be stale,
   * as the release may read the reservation while a commit races it.
   */
  StockReleased: defineEvent('Reservation', [z.object({ lines: z.array(stockLine).min(1) })], []),

  // payments service
  PaymentCharged: defineEvent(
    'Payment',
    [z.object({ amountCents: cents, currency: currencyCode, gatewayChargeId: z.string().min(1) })],
    [],
  ),
  PaymentDeclined: defineEvent(
    'Payment',
    [
      z.object({
        amountCents: cents,
        currency: currencyCode,
        reason: z.string(),
        gatewayChargeId: z.string().min(1),
      }),
    ],
    [],
  ),
  PaymentRefunded: defineEvent(
    'Payment',
    [z.object({ amountCents: cents, currency: currencyCode, gatewayRefundId: z.string().min(1) })],
    [],
  ),

  // shipping service
  ShipmentCreated: defineEvent(
    'Shipment',
    [z.object({ carrier: z.string().min(1), trackingNumber: z.string().min(1), rate: shippingRate })],
    [],
  ),
  ShipmentCancelled: defineEvent('Shipment', [z.object({ trackingNumber: z.string().min(1) })], []),
} as const satisfies Record<string, AnyEventDefinition>;

type Catalogue = typeof eventCatalogue;

export type EventType = keyof Catalogue;

export const eventTypes = Object.keys(eventCatalogue) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventCatalogue, type);
}

/** An event's payload at its current schema version. */
export type PayloadOf<T extends EventType> = z.output<Catalogue[T]['payload']>;

/** What a writer passes for an event's payload (before the current schema parses it). */
export type PayloadInputOf<T extends EventType> = z.input<Catalogue[T]['payload']>;

/** Any event at its current schema version; `switch (event.type)` narrows the payload. */
export type DomainEvent = {
  [T in EventType]: EventEnvelope<T, PayloadOf<T>>;
}[EventType];
