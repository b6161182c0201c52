import { formatCents } from './money';

/**
 * What the shop pays the carrier for an order's parcel. The carrier quotes
 * it; when the carrier is slow or down, shipping goes ahead at a flat rate
 * and the order says so, so the difference can be settled with the carrier's
 * invoice later. A rate never decides whether an order goes through.
 */
export type ShippingRate =
  | { source: 'carrier-quote'; amountCents: number; quoteId: string; service: string }
  | { source: 'flat-rate'; amountCents: number; reason: string };

export type ShippingRateSource = ShippingRate['source'];

export function describeShippingRate(rate: ShippingRate): string {
  const amount = formatCents(rate.amountCents);
  return rate.source === 'carrier-quote'
    ? `${amount} (carrier quote ${rate.quoteId})`
    : `${amount} (flat rate: ${rate.reason})`;
}
