/**
 * Inputs that make a service or partner fail on purpose, in the manner of payment test
 * cards, so every path of the saga can be watched and tested. The README's
 * failure-trigger table lists them.
 */
/**
 * Payment test tokens. The payment gateway honours them (it is the card
 * processor that declines or rejects), so they are defined with its contract.
 */
export { gatewayTestTokens as paymentTokens, flakyChargeFailures } from '../partners/contract';

/** A shipping address with this postal code cannot be delivered. */
export const undeliverablePostalCode = '00000';

/** A customer the orders service refuses (as a fraud list would). */
export const blockedCustomerId = 'cus_blocked';

/** A catalogue item whose stock is zero. */
export const soldOutSku = 'SKU-SOLDOUT';
