import { createHash } from 'node:crypto';

/**
 * Order ids derived from a placement's Idempotency-Key, beside names.ts's
 * other ids rather than in it: they hash with node:crypto, and the workflow,
 * which imports names.ts, may not load Node modules.
 */

const orderIdPrefix = 'ord_';
const orderIdHexDigits = 24;

/** The shape of every order id derived here; an id of any other shape names no order. */
export const orderIdPattern = new RegExp(`^${orderIdPrefix}[0-9a-f]{${orderIdHexDigits}}$`);

function orderIdOfDigest(digest: string): string {
  return `${orderIdPrefix}${digest.slice(0, orderIdHexDigits)}`;
}

/**
 * The order a customer's Idempotency-Key names. The customer is part of it, so
 * two customers sending the same key place two orders, and a key guessed by
 * one never reaches another's order. JSON keeps the two parts apart whatever
 * characters they hold.
 */
export function orderIdFor(customerId: string, idempotencyKey: string): string {
  return orderIdOfDigest(
    createHash('sha256')
      .update(JSON.stringify([customerId, idempotencyKey]))
      .digest('hex'),
  );
}

/**
 * The order id of the key alone, as the API derived it before keys were
 * scoped to their customer: orders placed then keep it (src/api/placement.ts
 * answers their repeats under it).
 */
export function legacyOrderIdFor(idempotencyKey: string): string {
  return orderIdOfDigest(createHash('sha256').update(idempotencyKey).digest('hex'));
}
