import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PaymentsDb } from '../db';
import { currency } from '../domain/order';
import { flakyChargeFailures, paymentTokens } from '../domain/failure-triggers';
import { rejectionTypes } from '../domain/rejections';
import { executeCompensation, executeStep, Rejection } from './idempotency';

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

export function createPaymentsActivities(db: PaymentsDb) {
  return {
    chargePayment: async (input: ChargePaymentInput): Promise<{ paymentId: string }> => {
      if (input.paymentToken === paymentTokens.flaky && Context.current().info.attempt <= flakyChargeFailures) {
        // Thrown before any transaction: a gateway outage leaves nothing behind.
        throw ApplicationFailure.retryable(
          `Payment gateway unavailable (${paymentTokens.flaky}, attempt ${Context.current().info.attempt})`,
          'GatewayUnavailable',
        );
      }
      return executeStep(db, input.key, async (tx) => {
        if (input.paymentToken === paymentTokens.declined) {
          throw new Rejection(rejectionTypes.paymentDeclined, `Card declined (${paymentTokens.declined})`);
        }
        const paymentId = `pay_${randomUUID()}`;
        await tx.payment.create({
          data: {
            id: paymentId,
            key: input.key,
            orderId: input.orderId,
            amountCents: input.amountCents,
            currency,
            paymentToken: input.paymentToken,
            status: 'CHARGED',
          },
        });
        return { paymentId };
      });
    },

    refundPayment: async (input: RefundPaymentInput): Promise<{ refunded: boolean }> => {
      return executeCompensation(db, input.stepKey, async (tx) => {
        const payment = await tx.payment.findUnique({ where: { key: input.stepKey } });
        if (!payment || payment.status !== 'CHARGED') return { refunded: false };
        if (payment.paymentToken === paymentTokens.refundRejected) {
          throw new Rejection(
            rejectionTypes.refundRejected,
            `The card issuer rejected the refund of ${payment.id}: card account closed (${paymentTokens.refundRejected})`,
          );
        }
        await tx.payment.update({
          where: { id: payment.id },
          data: { status: 'REFUNDED', refundedAt: new Date() },
        });
        return { refunded: true };
      });
    },
  };
}

export type PaymentsActivities = ReturnType<typeof createPaymentsActivities>;
