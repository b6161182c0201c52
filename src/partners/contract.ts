import { z } from 'zod';
import { flakyChargeFailures, paymentTokens } from '../domain/failure-triggers';

/**
 * The HTTP contracts of the two outside partners the services call: a payment
 * gateway (a card processor) and a shipping carrier. Here both are simulated
 * by processes of their own (simulators/gateway, simulators/carrier), so the
 * services meet real network failure: latency, timeouts, refused connections, 5xx.
 *
 * Both answer errors as RFC 9457 problem+json ({@link partnerProblemSchema}).
 */

/** Where the simulators listen by default, and so where our clients look for the partners when nothing is configured. */
export const defaultGatewayPort = 4010;
export const defaultCarrierPort = 4020;

// ---------------------------------------------------------------- gateway

export const gatewayPaths = {
  charges: '/v1/charges',
  charge: (chargeId: string) => `/v1/charges/${encodeURIComponent(chargeId)}`,
  refunds: '/v1/refunds',
  health: '/health',
  faults: '/admin/faults',
} as const;

/**
 * Test tokens the gateway itself honours, in the manner of a card processor's
 * test cards (the saga's failure triggers name them). Any other token is approved.
 */
export const gatewayTestTokens = paymentTokens;
export { flakyChargeFailures };

/**
 * The problem type of a 503 about one card's network or issuer, not about the
 * gateway: the gateway answered, so its clients must not count it as the
 * gateway failing (one kind of card would otherwise open their breaker for
 * every card).
 */
export const issuerUnavailableProblemType = 'issuer_unavailable';
export const slowAfterChargeMs = 30_000;

/** Every POST needs one; the same key with the same body gets the same answer, with another body a 422. */
export const idempotencyKeyHeader = 'Idempotency-Key';
/** Set on an answer replayed from the idempotency store. */
export const idempotentReplayedHeader = 'Idempotent-Replayed';

export const chargeRequestSchema = z
  .object({
    amountCents: z.number().int().positive().max(100_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/),
    token: z.string().min(1).max(100),
    /** The merchant's reference (the order id), for reconciliation. */
    orderId: z.string().min(1).max(100),
  })
  .strict();
export type ChargeRequest = z.infer<typeof chargeRequestSchema>;

export const chargeSchema = z.object({
  id: z.string(), // ch_<ulid or uuid>
  status: z.enum(['succeeded', 'declined']),
  amountCents: z.number().int(),
  currency: z.string(),
  orderId: z.string(),
  declineReason: z.string().nullable(),
  refundedCents: z.number().int(),
  createdAt: z.string(), // ISO 8601
});
export type Charge = z.infer<typeof chargeSchema>;

export const refundRequestSchema = z.object({ chargeId: z.string().min(1).max(100) }).strict();
export type RefundRequest = z.infer<typeof refundRequestSchema>;

export const refundSchema = z.object({
  id: z.string(), // re_...
  chargeId: z.string(),
  amountCents: z.number().int(),
  createdAt: z.string(),
});
export type Refund = z.infer<typeof refundSchema>;

/** `GET /v1/charges?orderId=...` (orderId optional; at most 1000 newest first when absent). */
export const chargeListSchema = z.object({ charges: z.array(chargeSchema) });

/**
 * The problem types the gateway answers, by status:
 * - 400 invalid_request (body or header), 404 not_found,
 * - 402 card_declined (a charge: the declined charge is in `charge`),
 * - 409 idempotency_key_in_use (the same key is being processed right now),
 * - 422 idempotency_key_reused (same key, other body), 422 refund_rejected (the issuer's refusal),
 *   422 charge_not_refundable, 422 charge_already_refunded,
 * - 503 unavailable (down, or a transient failure: nothing was done);
 * and, for any request, 403 forbidden (admin routes off loopback), 413, 415, 500 internal_error.
 *
 * Stored under the Idempotency-Key and replayed: 201, 402 and the refund refusals that are facts about the
 * charge (404, charge_not_refundable, charge_already_refunded). Not stored, so a retry with the same key is
 * handled afresh: answers where nothing was done (400, 409, 413, 415, 503, 500) and refund_rejected, so that
 * an operator's retry reaches the issuer again.
 */
export const partnerProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  charge: chargeSchema.optional(),
});
export type PartnerProblem = z.infer<typeof partnerProblemSchema>;

// ---------------------------------------------------------------- carrier

/** The carrier the shipping service books parcels with. */
export const carrierName = 'Parcelwise';

export const carrierPaths = {
  rates: '/v1/rates',
  health: '/health',
  faults: '/admin/faults',
} as const;

export const rateRequestSchema = z
  .object({
    postalCode: z.string().min(1).max(20),
    country: z.string().regex(/^[A-Z]{2}$/),
    /** Number of parcels' items, a stand-in for weight. */
    itemCount: z.number().int().positive().max(10_000),
  })
  .strict();
export type RateRequest = z.infer<typeof rateRequestSchema>;

export const rateQuoteSchema = z.object({
  quoteId: z.string(),
  carrier: z.string(),
  service: z.string(),
  amountCents: z.number().int().nonnegative(),
  currency: z.string(),
});
export type RateQuote = z.infer<typeof rateQuoteSchema>;

// ---------------------------------------------------------------- fault controls (both partners)

/**
 * `PUT /admin/faults` sets, `GET /admin/faults` reads the partner's injected
 * faults. Loopback only: a partner refuses admin calls from other addresses.
 */
export const partnerFaultsSchema = z
  .object({
    /** Every request but /health and /admin is answered 503 at once. */
    down: z.boolean().default(false),
    /** Added before every answer (ms). */
    latencyMs: z.number().int().min(0).max(600_000).default(0),
    /** Share of requests answered 503 before doing anything (0..1). */
    failureRate: z.number().min(0).max(1).default(0),
  })
  .strict();
export type PartnerFaults = z.infer<typeof partnerFaultsSchema>;
