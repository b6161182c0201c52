import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { PaymentsDb } from '../db';
import { currency } from '../domain/money';
import { rejectionTypes } from '../domain/rejections';
import { activityCorrelation, appendEvent, type Correlation } from '../events';
import type { Charge, ChargeRequest } from '../partners/contract';
import { GatewayRefusal, GatewayUnavailable, type GatewayClient } from '../partners/gateway-client';
import { claimStep, compensationKeyOf, executeCompensation, executeStep, type StepClaim } from './idempotency';

export interface ChargePaymentInput {
  key: string;
  orderId: string;
  amountCents: number;
  paymentToken: string;
}

export interface RefundPaymentInput {
  /** The key of the charge-payment step being compensated. */
  stepKey: string;
  orderId: string;
}

type RecordedCharge = { paymentId: string } | { declined: string };

/**
 * Failure types of a gateway that could not be asked: retryable, so the
 * activity's retry policy waits and asks again. The breaker's fail-fast is
 * one of them, on purpose: it turns a down gateway into Temporal's backoff.
 */
export const gatewayFailureTypes = {
  'circuit-open': 'GatewayCircuitOpen',
  'bulkhead-full': 'GatewayBusy',
  'key-in-use': 'GatewayStillProcessing',
  unreachable: 'GatewayUnavailable',
  timeout: 'GatewayTimeout',
  'server-error': 'GatewayUnavailable',
} as const;

/** Gateway errors as activity failures: unavailability is retried, a refusal we did not expect is not. */
function asActivityFailure(error: unknown): unknown {
  if (error instanceof GatewayUnavailable) {
    return ApplicationFailure.retryable(error.message, gatewayFailureTypes[error.reason]);
  }
  if (error instanceof GatewayRefusal) {
    // A refusal no step expects (a reused key with another body, say) is a bug: retrying repeats it.
    return ApplicationFailure.nonRetryable(error.message, 'GatewayRefusal', error.problem);
  }
  return error;
}

async function callGateway<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asActivityFailure(error);
  }
}

/**
 * Charges and refunds happen at the payment gateway, over the network, so
 * they cannot share a transaction with the service's own rows. The steps are
 * therefore split (claim, call, record) and the gateway's Idempotency-Key is
 * what makes the split safe:
 *
 * - the charge uses the saga step's key, so a retry after a timeout or a
 *   crash gets the gateway's stored answer and never charges twice;
 * - the refund fences the charge first (no claim can start after it), then
 *   asks the gateway what happened under the charge's key by repeating the
 *   charge request: the stored charge, a 409 while an earlier attempt is
 *   still in flight (retried), or, if no request ever arrived, a charge made
 *   now, which the refund then returns. Money is never left behind.
 */
export function createPaymentsActivities(db: PaymentsDb, gateway: GatewayClient) {
  return {
    chargePayment: async (input: ChargePaymentInput): Promise<{ paymentId: string }> => {
      const correlation = activityCorrelation(input.orderId);
      const chargeRequest: ChargeRequest = {
        amountCents: input.amountCents,
        currency,
        token: input.paymentToken,
        orderId: input.orderId,
      };
      const paymentId = `pay_${randomUUID()}`;
      const claim: StepClaim<RecordedCharge> = await claimStep(db, input.key, async (tx) => {
        const existing = await tx.payment.findUnique({ where: { key: input.key } });
        if (existing) return; // claimed by an earlier attempt whose gateway call may have gone through
        await tx.payment.create({
          data: {
            id: paymentId,
            key: input.key,
            orderId: input.orderId,
            amountCents: input.amountCents,
            currency,
            paymentToken: input.paymentToken,
            status: 'PENDING',
          },
        });
      });
      const recorded = claim.finished
        ? claim.value
        : await recordCharge(input.key, await callGateway(() => gateway.charge(input.key, chargeRequest)), correlation);
      if ('declined' in recorded) {
        throw ApplicationFailure.nonRetryable(recorded.declined, rejectionTypes.paymentDeclined);
      }
      return recorded;
    },

    refundPayment: async (input: RefundPaymentInput): Promise<{ refunded: boolean }> => {
      const correlation = activityCorrelation(input.orderId);
      // Fences the charge step and takes note of its claim, in one transaction.
      const claimed = await executeCompensation(db, input.stepKey, async (tx) => {
        const payment = await tx.payment.findUnique({ where: { key: input.stepKey } });
        if (!payment) return null;
        const request: ChargeRequest = {
          amountCents: payment.amountCents,
          currency: payment.currency,
          token: payment.paymentToken,
          orderId: payment.orderId,
        };
        return { request, declined: payment.status === 'DECLINED' };
      });
      if (!claimed || claimed.declined) return { refunded: false };

      const outcome = await callGateway(() => gateway.charge(input.stepKey, claimed.request));
      if ('declined' in outcome) {
        await recordDeclineFoundByRefund(input.stepKey, outcome.declined, correlation);
        return { refunded: false };
      }
      const charge = outcome.charged;
      let refundId: string;
      try {
        ({ id: refundId } = await gateway.refund(`${compensationKeyOf(input.stepKey)}:refund`, charge.id));
      } catch (error) {
        if (error instanceof GatewayRefusal && error.problem.type === 'refund_rejected') {
          // Not remembered: an operator's retry asks the gateway again.
          throw ApplicationFailure.nonRetryable(
            `The card issuer rejected the refund of ${charge.id}: ${error.problem.detail}`,
            rejectionTypes.refundRejected,
          );
        }
        throw asActivityFailure(error);
      }
      await recordRefund(input.stepKey, charge, refundId, correlation);
      return { refunded: true };
    },
  };

  /** Stores the gateway's answer as the step's outcome, unless the step was compensated meanwhile. */
  function recordCharge(
    key: string,
    outcome: { charged: Charge } | { declined: Charge },
    correlation: Correlation,
  ): Promise<RecordedCharge> {
    return executeStep(db, key, async (tx) => {
      const payment = await tx.payment.findUniqueOrThrow({ where: { key } });
      const amount = { amountCents: payment.amountCents, currency: payment.currency };
      if ('declined' in outcome) {
        const reason = outcome.declined.declineReason ?? 'declined';
        await tx.payment.update({
          where: { key },
          data: { status: 'DECLINED', declineReason: reason, gatewayChargeId: outcome.declined.id },
        });
        await appendEvent(tx, {
          type: 'PaymentDeclined',
          aggregateId: payment.id,
          correlation,
          payload: { ...amount, reason, gatewayChargeId: outcome.declined.id },
        });
        return { declined: `Card declined: ${reason}` };
      }
      await tx.payment.update({ where: { key }, data: { status: 'CHARGED', gatewayChargeId: outcome.charged.id } });
      await appendEvent(tx, {
        type: 'PaymentCharged',
        aggregateId: payment.id,
        correlation,
        payload: { ...amount, gatewayChargeId: outcome.charged.id },
      });
      return { paymentId: payment.id };
    });
  }

  /**
   * A refund that asked the gateway about a charge still PENDING here learnt
   * it was declined. Conditional, so a repeated refund records it once.
   */
  async function recordDeclineFoundByRefund(key: string, declined: Charge, correlation: Correlation): Promise<void> {
    await db.$transaction(async (tx) => {
      const payment = await tx.payment.findUniqueOrThrow({ where: { key } });
      const reason = declined.declineReason ?? 'declined';
      const { count } = await tx.payment.updateMany({
        where: { key, status: 'PENDING' },
        data: { status: 'DECLINED', declineReason: declined.declineReason, gatewayChargeId: declined.id },
      });
      if (count === 0) return;
      await appendEvent(tx, {
        type: 'PaymentDeclined',
        aggregateId: payment.id,
        correlation,
        payload: { amountCents: payment.amountCents, currency: payment.currency, reason, gatewayChargeId: declined.id },
      });
    });
  }

  /**
   * Records the refund once: a repeated refund (the gateway answers it with
   * the same refund) finds the payment REFUNDED and changes nothing. A
   * payment whose charge this service never recorded (the charge step was
   * compensated before it learnt the gateway's answer, or the refund's own
   * request made the charge) also gets its PaymentCharged, so the events
   * account for the money both ways. The update is conditional on the status
   * read: if the charge step recorded its outcome meanwhile, this attempt
   * fails and its retry reads again, rather than record the charge twice.
   */
  async function recordRefund(key: string, charge: Charge, refundId: string, correlation: Correlation): Promise<void> {
    await db.$transaction(async (tx) => {
      const payment = await tx.payment.findUniqueOrThrow({ where: { key } });
      if (payment.status === 'REFUNDED') return;
      const { count } = await tx.payment.updateMany({
        where: { key, status: payment.status },
        data: { status: 'REFUNDED', refundedAt: new Date(), gatewayChargeId: charge.id, gatewayRefundId: refundId },
      });
      if (count === 0) throw new Error(`Payment ${payment.id} changed while its refund was recorded; retry`);
      const amount = { amountCents: payment.amountCents, currency: payment.currency };
      if (payment.status !== 'CHARGED') {
        await appendEvent(tx, {
          type: 'PaymentCharged',
          aggregateId: payment.id,
          correlation,
          payload: { ...amount, gatewayChargeId: charge.id },
        });
      }
      await appendEvent(tx, {
        type: 'PaymentRefunded',
        aggregateId: payment.id,
        correlation,
        payload: { ...amount, gatewayRefundId: refundId },
      });
    });
  }
}

export type PaymentsActivities = ReturnType<typeof createPaymentsActivities>;
