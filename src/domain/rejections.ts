/**
 * Business rejections: answers that will not change on retry, so the activity
 * fails at once (non-retryable) and the saga starts compensating. Anything
 * else an activity throws is treated as transient and retried with backoff.
 */
export const rejectionTypes = {
  customerBlocked: 'CustomerBlocked',
  unknownSku: 'UnknownSku',
  outOfStock: 'OutOfStock',
  paymentDeclined: 'PaymentDeclined',
  addressUndeliverable: 'AddressUndeliverable',
  refundRejected: 'RefundRejected',
  /** A step's late retry arrived after the step was already compensated. */
  stepAlreadyCompensated: 'StepAlreadyCompensated',
  /**
   * The Idempotency-Key that names the order was first used with another
   * request body: refused by the workflow while its run is retained, and by
   * the orders service after that (the order row keeps the fingerprint).
   */
  idempotencyKeyReused: 'IdempotencyKeyReused',
} as const;

export type RejectionType = (typeof rejectionTypes)[keyof typeof rejectionTypes];

const known = new Set<string>(Object.values(rejectionTypes));

export function isRejectionType(type: string | undefined): type is RejectionType {
  return type !== undefined && known.has(type);
}
