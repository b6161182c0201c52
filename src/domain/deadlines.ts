/**
 * How long a step may wait out transient trouble (a service or partner down,
 * no worker polling, our own back-pressure) before the order fails with a
 * deadline exceeded (the workflow's orderFailureTypes). Durations such as '15m'. The
 * confirmation has none: it is the saga's point of no return, retried until
 * done.
 */
export interface OrderDeadlines {
  /** From the run's start until the order is created and its stock reserved. */
  acceptance: string;
  /** From the moment the order may be paid (accepted, and approved if it needed approval) until it is charged. */
  payment: string;
  /** From the charge until the shipment is booked. */
  shipment: string;
}

export const defaultOrderDeadlines: OrderDeadlines = { acceptance: '1h', payment: '15m', shipment: '24h' };

/**
 * A step attempt's start-to-close timeout. The payments worker's gateway
 * budget (queue wait plus call) is checked against it at start-up.
 */
export const stepTimeoutMs = 10_000;
