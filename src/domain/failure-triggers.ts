/**
 * Inputs that make a service fail on purpose, in the manner of payment test
 * cards, so every path of the saga can be watched and tested. The README's
 * failure-trigger table lists them.
 */
export const paymentTokens = {
  /** Any token not listed below is approved; this one is the documented default. */
  approved: 'tok_visa',
  declined: 'tok_declined',
  /** Fails transiently on its first attempts, then succeeds. */
  flaky: 'tok_flaky',
  /** Charges fine; its refund is rejected until an operator resolves it. */
  refundRejected: 'tok_refund_rejected',
} as const;

/** How many attempts a tok_flaky charge fails before it succeeds. */
export const flakyChargeFailures = 2;

/** A shipping address with this postal code cannot be delivered. */
export const undeliverablePostalCode = '00000';

/** A customer the orders service refuses (as a fraud list would). */
export const blockedCustomerId = 'cus_blocked';

/** A catalogue item whose stock is zero. */
export const soldOutSku = 'SKU-SOLDOUT';
