import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { PaymentsDb } from '../db';
import { currency } from '../domain/money';
import { rejectionTypes } from '../domain/rejections';
import { activityCorrelation, appendEvent, type Correlation } from '../events';
import type { Charge, ChargeRequest } from '../partners/contract';
import {
  GatewayRefusal,
  GatewayUnavailable,
  type ChargeOutcome,
  type GatewayCallOptions,
  type GatewayClient,
} from '../partners/gateway-client';
import { refundKeyOf } from '../temporal/names';
import { claimStep, executeCompensation, executeStep, type StepClaim } from './idempotency';

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
 * The share of the refund activity's start-to-close timeout that its gateway
 * calls may take together (a lookup and a refund at most); the rest is left
 * for its transactions, so that an attempt ends, in success or a retryable
 * timeout, before Temporal gives up on it and starts the next one.
 */
const refundGatewayShare = 0.8;

/**
 * When a late attempt's refund of its own charge fails transiently, it asks
 * again after these waits before it gives up: no retry of that attempt will
 * come (Temporal already gave up on it), and it alone knows of the charge.
 */
const lateChargeRefundRetryDelaysMs = [250, 1_000, 4_000, 10_000];

function isStepAlreadyCompensated(error: unknown): boolean {
  return error instanceof ApplicationFailure && error.type === rejectionTypes.stepAlreadyCompensated;
}

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
  'issuer-unavailable': 'CardIssuerUnavailable',
} as const;

/** Gateway errors as activity failures: unavailability is retried, a refusal we did not expect is not. */
function asActivityFailure(error: unknown): unknown {
  if (error instanceof GatewayUnavailable) {
    return ApplicationFailure.create({
      message: error.message,
      type: gatewayFailureTypes[error.reason],
      nonRetryable: false,
      // An open breaker knows when it will let a trial call through: the retry comes no sooner than that, and no
      // sooner than the retry policy would bring it either, so a long outage spends attempts (and the saga's rounds
      // of retries, each a few history events) at the policy's pace rather than at the breaker's.
      ...(error.retryAfterMs === undefined
        ? {}
        : { nextRetryDelay: Math.max(error.retryAfterMs, policyBackoffMs() ?? 0) }),
    });
  }
  if (error instanceof GatewayRefusal) {
    // A refusal no step expects (a reused key with another body, say) is a bug: retrying repeats it.
    return ApplicationFailure.nonRetryable(error.message, 'GatewayRefusal', error.problem);
  }
  return error;
}

/** The delay the running attempt's retry policy gives before the next attempt, when there is a policy to read. */
function policyBackoffMs(): number | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined; // not inside an activity
  }
  const policy = info.retryPolicy;
  if (policy?.initialInterval === undefined) return undefined;
  const initial = msToNumber(policy.initialInterval);
  const next = initial * (policy.backoffCoefficient ?? 2) ** (info.attempt - 1);
  return policy.maximumInterval === undefined ? next : Math.min(next, msToNumber(policy.maximumInterval));
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
 * they cannot share a transaction with the service's own rows. The charge is
 * therefore split (claim, call, record):
 *
 * - the charge uses the saga step's key as its Idempotency-Key, so a retry
 *   after a timeout or a crash gets the gateway's stored answer and never
 *   charges twice; it asks the gateway only after its claim committed;
 * - the refund never sends a charge request (that would make a charge when
 *   the original never arrived, and be refused once the gateway forgot the
 *   key after its retention). It fences the charge step first: from then on
 *   no claim commits and no charge is recorded. No claim means no request
 *   was ever sent: nothing to refund. A recorded charge is refunded by the
 *   gateway id this service stored; a claim still PENDING (its answer never
 *   recorded) is looked up at the gateway by order;
 * - one race is left: an attempt that claimed before the fence may still
 *   have its request on the way, and land at the gateway after the refund
 *   looked and found nothing. The fence refuses that attempt's record
 *   (StepAlreadyCompensated), and the attempt, holding the gateway's answer,
 *   refunds the charge it just made before it fails. The refund of one charge
 *   always uses the same Idempotency-Key ({@link refundKeyOf}), so when the
 *   refund and the late attempt both find it, the gateway refunds it once.
 *
 * So a compensated order keeps no money, as long as the attempt that made a
 * late charge lives to read the gateway's answer and to refund it (it asks
 * again a few times if the gateway fails meanwhile). The saga runs steps in a
 * non-cancellable scope, so such an attempt is one Temporal gave up on (timed
 * out) while it ran; if it dies between the gateway's charge and its own
 * refund, the charge stays, the payment stays PENDING behind a recorded
 * compensation, and running refund-payment again (it looks at the gateway
 * each time) returns it.
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
        : await recordOrReturnCharge(
            input.key,
            await callGateway(() => gateway.charge(input.key, chargeRequest)),
            correlation,
          );
      if ('declined' in recorded) {
        throw ApplicationFailure.nonRetryable(recorded.declined, rejectionTypes.paymentDeclined);
      }
      return recorded;
    },

    refundPayment: async (input: RefundPaymentInput): Promise<{ refunded: boolean }> => {
      // Before the first transaction, so the transactions' time counts against the calls' share.
      const call: GatewayCallOptions = {
        deadline: Date.now() + Context.current().info.startToCloseTimeoutMs * refundGatewayShare,
      };
      const correlation = activityCorrelation(input.orderId);
      // Fences the charge step and notes whether it was claimed, in one transaction. (Runs before this
      // version stored the claimed request instead of true: any stored object means claimed.)
      const claimed = await executeCompensation(
        db,
        input.stepKey,
        async (tx) => (await tx.payment.findUnique({ where: { key: input.stepKey }, select: { id: true } })) !== null,
      );
      // Every charge request is sent after its claim committed, and none can commit now: nothing was charged.
      if (!claimed) return { refunded: false };

      // Read again on every run: since the fence, a late attempt may have refunded its charge or found it declined.
      const payment = await db.payment.findUniqueOrThrow({ where: { key: input.stepKey } });
      if (payment.status === 'REFUNDED') return { refunded: true };
      if (payment.status === 'DECLINED') return { refunded: false };
      const chargeId =
        payment.status === 'CHARGED' && payment.gatewayChargeId
          ? payment.gatewayChargeId
          : await findChargeOfClaim(payment, correlation, call);
      // Nothing at the gateway: no request arrived, or one is still on its way, whose attempt refunds it.
      if (!chargeId) return { refunded: false };
      await refundCharge(input.stepKey, chargeId, correlation, call);
      return { refunded: true };
    },
  };

  /**
   * Records the gateway's answer. If the step was compensated since this
   * attempt's claim, the record is refused, and the refund may have looked
   * for the charge before this request reached the gateway: this attempt
   * returns the money itself, then fails as refused. Without a deadline: an
   * attempt Temporal already gave up on is past its own, and the money must
   * still go back.
   */
  async function recordOrReturnCharge(key: string, outcome: ChargeOutcome, correlation: Correlation) {
    try {
      return await recordCharge(key, outcome, correlation);
    } catch (error) {
      if (!isStepAlreadyCompensated(error)) throw error;
      if ('charged' in outcome) await returnLateCharge(key, outcome.charged.id, correlation);
      else await recordDeclineFound(key, outcome.declined, correlation);
      throw error;
    }
  }

  async function returnLateCharge(key: string, chargeId: string, correlation: Correlation): Promise<void> {
    for (const delayMs of [...lateChargeRefundRetryDelaysMs, undefined]) {
      try {
        await refundCharge(key, chargeId, correlation);
        return;
      } catch (error) {
        const transient = !(error instanceof ApplicationFailure && error.nonRetryable);
        if (!transient || delayMs === undefined) throw error;
        await sleep(delayMs);
      }
    }
  }

  /**
   * The charge a claim still PENDING made, looked up at the gateway by order:
   * the charge step is the only one that charges an order, and the gateway
   * keeps one charge per Idempotency-Key for good, so an order has at most one.
   */
  async function findChargeOfClaim(
    payment: { key: string; orderId: string },
    correlation: Correlation,
    call: GatewayCallOptions,
  ): Promise<string | undefined> {
    const charges = await callGateway(() => gateway.chargesOfOrder(payment.orderId, call));
    const charged = charges.find((charge) => charge.status === 'succeeded');
    if (charged) return charged.id;
    const declined = charges.find((charge) => charge.status === 'declined');
    if (declined) await recordDeclineFound(payment.key, declined, correlation);
    return undefined;
  }

  /** Refunds a charge by its gateway id and records the refund. */
  async function refundCharge(
    key: string,
    chargeId: string,
    correlation: Correlation,
    call: GatewayCallOptions = {},
  ): Promise<void> {
    let refundId: string;
    try {
      ({ id: refundId } = await gateway.refund(refundKeyOf(key), chargeId, call));
    } catch (error) {
      if (error instanceof GatewayRefusal && error.problem.type === 'refund_rejected') {
        // Not remembered: an operator's retry asks the gateway again.
        throw ApplicationFailure.nonRetryable(
          `The card issuer rejected the refund of ${chargeId}: ${error.problem.detail}`,
          rejectionTypes.refundRejected,
        );
      }
      throw asActivityFailure(error);
    }
    await recordRefund(key, chargeId, refundId, correlation);
  }

  /** Stores the gateway's answer as the step's outcome, unless the step was compensated meanwhile. */
  function recordCharge(key: string, outcome: ChargeOutcome, correlation: Correlation): Promise<RecordedCharge> {
    return executeStep(db, key, async (tx) => {
      // The update answers the row it changed (the claim created it): no read before it.
      if ('declined' in outcome) {
        const reason = outcome.declined.declineReason ?? 'declined';
        const payment = await tx.payment.update({
          where: { key },
          data: { status: 'DECLINED', declineReason: reason, gatewayChargeId: outcome.declined.id },
        });
        const amount = { amountCents: payment.amountCents, currency: payment.currency };
        await appendEvent(tx, {
          type: 'PaymentDeclined',
          aggregateId: payment.id,
          correlation,
          payload: { ...amount, reason, gatewayChargeId: outcome.declined.id },
        });
        return { declined: `Card declined: ${reason}` };
      }
      const payment = await tx.payment.update({
        where: { key },
        data: { status: 'CHARGED', gatewayChargeId: outcome.charged.id },
      });
      const amount = { amountCents: payment.amountCents, currency: payment.currency };
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
   * A charge still PENDING here was declined, as the refund's lookup or a
   * refused late attempt learnt. Conditional, so a repeat records it once.
   */
  async function recordDeclineFound(key: string, declined: Charge, correlation: Correlation): Promise<void> {
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
   * compensated before it learnt the gateway's answer) also gets its
   * PaymentCharged, so the events account for the money both ways. The
   * update is conditional on the status read: if the payment changed
   * meanwhile, this attempt fails and its retry reads again, rather than
   * record the charge twice, unless what changed it was the same refund.
   */
  async function recordRefund(
    key: string,
    chargeId: string,
    refundId: string,
    correlation: Correlation,
  ): Promise<void> {
    await db.$transaction(async (tx) => {
      const payment = await tx.payment.findUniqueOrThrow({ where: { key } });
      if (payment.status === 'REFUNDED') return;
      const { count } = await tx.payment.updateMany({
        where: { key, status: payment.status },
        data: { status: 'REFUNDED', refundedAt: new Date(), gatewayChargeId: chargeId, gatewayRefundId: refundId },
      });
      if (count === 0) {
        // The refund and a late attempt both refunding the charge: the other one recorded it first.
        const now = await tx.payment.findUniqueOrThrow({ where: { key }, select: { status: true } });
        if (now.status === 'REFUNDED') return;
        throw new Error(`Payment ${payment.id} changed while its refund was recorded; retry`);
      }
      const amount = { amountCents: payment.amountCents, currency: payment.currency };
      if (payment.status !== 'CHARGED') {
        await appendEvent(tx, {
          type: 'PaymentCharged',
          aggregateId: payment.id,
          correlation,
          payload: { ...amount, gatewayChargeId: chargeId },
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
