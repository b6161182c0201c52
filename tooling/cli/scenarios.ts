import { catalogue } from '../../src/db/inventory-catalogue';
import {
  blockedCustomerId,
  paymentTokens,
  soldOutSku,
  undeliverablePostalCode,
} from '../../src/domain/failure-triggers';
import type { OrderRequest } from '../../src/domain/order';

/** The parts of an order the terminal client lets you choose; the rest of the address is fixed. */
export interface OrderDraft {
  customerId: string;
  sku: string;
  quantity: number;
  token: string;
  postalCode: string;
}

/** Where a scenario stops for a person, if it does. */
export type HumanWait = 'approval' | 'operator';

export interface Scenario {
  name: string;
  /** What happens, as the README's failure-trigger table says. */
  summary: string;
  order: Partial<OrderDraft>;
  waitsFor?: HumanWait;
}

function byPrice(order: 'cheapest' | 'dearest') {
  const inStock = catalogue.filter((product) => product.available > 0);
  const sorted = [...inStock].sort((a, b) => a.priceCents - b.priceCents);
  const product = order === 'cheapest' ? sorted[0] : sorted[sorted.length - 1];
  if (!product) throw new Error('the catalogue has no product in stock');
  return product;
}

/** The dearest product in the catalogue (the laptop) is over the approval threshold on its own. */
const approvalProduct = byPrice('dearest');

export const defaultDraft: OrderDraft = {
  customerId: 'cus_ada',
  sku: byPrice('cheapest').sku,
  quantity: 2,
  token: paymentTokens.approved,
  postalCode: 'N1 9GU',
};

const fixedAddress = { recipient: 'Ada Lovelace', line1: '12 Analytical Row', city: 'London', country: 'GB' };

export const scenarios: readonly Scenario[] = [
  { name: 'happy', summary: 'everything succeeds: confirmed', order: {} },
  {
    name: 'declined-card',
    summary: 'the card is declined; release-stock, cancel-order: failed (PaymentDeclined)',
    order: { token: paymentTokens.declined },
  },
  {
    name: 'flaky-gateway',
    summary: 'the gateway answers 503 twice, the 3rd attempt charges: confirmed',
    order: { token: paymentTokens.flaky },
  },
  {
    name: 'timeout-after-charge',
    summary: 'the gateway charges but answers too late; the retry finds the charge by its key: confirmed',
    order: { token: paymentTokens.timeoutAfterCharge },
  },
  {
    name: 'undeliverable-address',
    summary: `postal code ${undeliverablePostalCode} cannot be delivered; refund-payment, release-stock, cancel-order: failed (AddressUndeliverable)`,
    order: { postalCode: undeliverablePostalCode },
  },
  {
    name: 'sold-out',
    summary: `${soldOutSku} has no stock; cancel-order: failed (OutOfStock)`,
    order: { sku: soldOutSku, quantity: 1 },
  },
  {
    name: 'blocked-customer',
    summary: `the orders service refuses ${blockedCustomerId}; nothing to compensate: failed (CustomerBlocked)`,
    order: { customerId: blockedCustomerId },
  },
  {
    name: 'refund-rejected',
    summary: 'undeliverable, and the issuer rejects the refund: needs-attention until an operator resolves it',
    order: { token: paymentTokens.refundRejected, postalCode: undeliverablePostalCode },
    waitsFor: 'operator',
  },
  {
    name: 'needs-approval',
    summary: `one ${approvalProduct.sku} is over the approval threshold: awaiting-approval until approved or rejected`,
    order: { sku: approvalProduct.sku, quantity: 1 },
    waitsFor: 'approval',
  },
];

export function findScenario(name: string): Scenario | undefined {
  return scenarios.find((scenario) => scenario.name === name);
}

export function orderRequestOf(draft: OrderDraft): OrderRequest {
  return {
    customerId: draft.customerId,
    items: [{ sku: draft.sku, quantity: draft.quantity }],
    payment: { token: draft.token },
    shippingAddress: { ...fixedAddress, postalCode: draft.postalCode },
  };
}
