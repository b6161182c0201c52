import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes of order runs, so the Web UI can find orders by
 * state, e.g. `NeedsAttention = true` or `OrderStatus = "failed"`. The dev
 * server registers them at start; a production namespace needs them added
 * once (see the README).
 */
export const orderIdAttribute = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const customerIdAttribute = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const orderStatusAttribute = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const needsAttentionAttribute = defineSearchAttributeKey('NeedsAttention', SearchAttributeType.BOOL);
/**
 * The order's total in currency units (42.5 = $42.50), known once the stock is reserved: a Double so the Web UI can
 * ask `OrderTotal > 1000`. Money is kept in cents everywhere else; this is for finding orders, not for sums.
 */
export const orderTotalAttribute = defineSearchAttributeKey('OrderTotal', SearchAttributeType.DOUBLE);
/**
 * The step an order is waiting on while it meets transient trouble (a partner down, no worker polling, our own
 * back-pressure), e.g. `OrderWaitingOn = "charge-payment"`; unset once the step has an answer.
 */
export const orderWaitingOnAttribute = defineSearchAttributeKey('OrderWaitingOn', SearchAttributeType.KEYWORD);
/** The X-Request-Id of the request that placed the order, set by the API when it starts the run. */
export const requestIdAttribute = defineSearchAttributeKey('RequestId', SearchAttributeType.KEYWORD);

export const orderSearchAttributes = [
  orderIdAttribute,
  customerIdAttribute,
  orderStatusAttribute,
  needsAttentionAttribute,
  orderTotalAttribute,
  requestIdAttribute,
  orderWaitingOnAttribute,
];
