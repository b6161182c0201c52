import { paymentTokens } from '../../src/domain/failure-triggers';
import type { OrderSagaInput } from '../../src/workflows/definitions';

/** Where most orders ship: abroad for the carrier (GB), so its international rate is what they pay. */
export const londonAddress = {
  recipient: 'Ada Lovelace',
  line1: '12 Analytical Row',
  city: 'London',
  postalCode: 'N1 9GU',
  country: 'GB',
};

/** A domestic address (US), for the saga's own inputs and the activities' tests. */
export const springfieldAddress = {
  recipient: 'Ada',
  line1: '1 Loop St',
  city: 'Springfield',
  postalCode: '12345',
  country: 'US',
};

/** Two mugs: below the approval threshold, in stock in the seeded catalogue. */
export const twoMugs = [{ sku: 'SKU-MUG', quantity: 2 }];

/** One laptop: above the approval threshold, so the order waits for an operator. */
export const oneLaptop = [{ sku: 'SKU-LAPTOP', quantity: 1 }];

/** The threshold the test stacks and saga inputs use: an order above it needs an operator's approval. */
export const approvalThresholdCents = 100_000;

export interface OrderRequestOptions {
  customerId?: string;
  items?: { sku: string; quantity: number }[];
  token?: string;
  address?: typeof londonAddress;
  postalCode?: string;
}

/** A body for POST /orders: two mugs to London on a card that is approved, unless the options say otherwise. */
export function orderRequest({
  customerId = 'cus_sample',
  items = twoMugs,
  token = paymentTokens.approved,
  address = londonAddress,
  postalCode = address.postalCode,
}: OrderRequestOptions = {}) {
  return {
    customerId,
    items: items.map((item) => ({ ...item })),
    payment: { token },
    shippingAddress: { ...address, postalCode },
  };
}

const sequences = new Map<string, number>();

/**
 * The saga's input as the API builds it: two mugs to Springfield on an approved card, an order id
 * `ord_<tag><sequence>` (28 characters) unique in this process.
 */
export function sagaInput(tag: string, overrides: Partial<OrderSagaInput> = {}): OrderSagaInput {
  const sequence = (sequences.get(tag) ?? 0) + 1;
  sequences.set(tag, sequence);
  return {
    orderId: `ord_${tag}${String(sequence).padStart(24 - tag.length, '0')}`,
    customerId: 'cus_42',
    items: twoMugs.map((item) => ({ ...item })),
    paymentToken: 'tok_visa',
    shippingAddress: { ...springfieldAddress },
    approvalThresholdCents,
    approvalTimeout: '24h',
    ...overrides,
  };
}
