/**
 * Inputs that make a service or partner fail on purpose, in the manner of payment test
 * cards, so every path of the saga can be watched and tested. The README's
 * failure-trigger table lists them.
 */
/**
 * Payment test tokens, in the manner of a card processor's test cards: the
 * payment gateway honours them (it is the card processor that declines or
 * rejects; see src/partners/contract.ts). Any other token is approved.
 */
export const paymentTokens = {
  approved: 'tok_visa',
  /** Charge answered 402, recorded as declined. */
  declined: 'tok_declined',
  /** Its first {@link flakyChargeFailures} charge requests (per Idempotency-Key) are answered 503 before anything is charged. */
  flaky: 'tok_flaky',
  /** Charges fine; every refund of it is answered 422 refund_rejected. */
  refundRejected: 'tok_refund_rejected',
  /**
   * Charges, then holds the first answer (per Idempotency-Key) for the
   * gateway's slowAfterChargeMs: the caller times out after the money moved,
   * and its retry must find the charge through the Idempotency-Key.
   */
  timeoutAfterCharge: 'tok_timeout_after_charge',
} as const;

/** How many charge requests of {@link paymentTokens.flaky} the gateway answers 503. */
export const flakyChargeFailures = 2;

/** A shipping address with this postal code cannot be delivered. */
export const undeliverablePostalCode = '00000';

/** A customer the orders service refuses (as a fraud list would). */
export const blockedCustomerId = 'cus_blocked';

/** A catalogue item whose stock is zero. */
export const soldOutSku = 'SKU-SOLDOUT';
