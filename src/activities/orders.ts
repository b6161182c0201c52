import { ApplicationFailure } from '@temporalio/common';
import type { OrdersDb } from '../db';
import type { OrderItem } from '../domain/order';
import { blockedCustomerId } from '../domain/failure-triggers';
import { rejectionTypes } from '../domain/rejections';
import type { ShippingRate } from '../domain/shipping-rate';
import { activityCorrelation, appendEvent } from '../events';
import { executeCompensation, executeOnce, executeStep, Rejection } from './idempotency';

export interface CreateOrderInput {
  key: string;
  orderId: string;
  workflowId: string;
  customerId: string;
  items: OrderItem[];
  /** The fingerprint of the request body that placed the order (absent for runs started before it was passed). */
  requestFingerprint?: string;
}

export interface CancelOrderInput {
  /** The key of the create-order step being compensated. */
  stepKey: string;
  orderId: string;
  reason: string;
}

export interface ConfirmOrderInput {
  key: string;
  orderId: string;
  totalCents: number;
  paymentId: string;
  shipmentId: string;
  shippingRate: ShippingRate;
}

export function createOrdersActivities(db: OrdersDb) {
  return {
    createOrder: async (input: CreateOrderInput): Promise<{ orderId: string }> => {
      const correlation = activityCorrelation(input.orderId);
      return executeStep(
        db,
        input.key,
        async (tx) => {
          if (input.customerId === blockedCustomerId) {
            throw new Rejection(rejectionTypes.customerBlocked, `Customer ${input.customerId} may not place orders`);
          }
          const items = input.items.map(({ sku, quantity }) => ({ sku, quantity }));
          // The order, then its items in one statement: a nested create inserts each item and reads the order back.
          const { currency } = await tx.order.create({
            data: {
              id: input.orderId,
              workflowId: input.workflowId,
              customerId: input.customerId,
              status: 'PENDING',
              requestFingerprint: input.requestFingerprint ?? null,
            },
            select: { currency: true },
          });
          await tx.orderItem.createMany({ data: items.map((item) => ({ orderId: input.orderId, ...item })) });
          await appendEvent(tx, {
            type: 'OrderCreated',
            createdWithAggregate: true,
            aggregateId: input.orderId,
            correlation,
            payload: { customerId: input.customerId, items, currency },
          });
          return { orderId: input.orderId };
        },
        {
          // Once Temporal has deleted a closed run (its retention), the same Idempotency-Key can start a new run for
          // this order id, and the steps would answer with what they stored for the first order. The row remembers
          // which body placed the order: another body is refused before anything is replayed. Only a repeat can
          // meet that row (it commits with the step's record), so a first execution does not read it.
          beforeRepeat: async (tx) => {
            if (!input.requestFingerprint) return;
            const placed = await tx.order.findUnique({
              where: { id: input.orderId },
              select: { requestFingerprint: true },
            });
            if (placed?.requestFingerprint && placed.requestFingerprint !== input.requestFingerprint) {
              throw ApplicationFailure.nonRetryable(
                `Order ${input.orderId} was placed with another request body under the same Idempotency-Key`,
                rejectionTypes.idempotencyKeyReused,
              );
            }
          },
        },
      );
    },

    cancelOrder: async (input: CancelOrderInput): Promise<{ cancelled: boolean }> => {
      const correlation = activityCorrelation(input.orderId);
      return executeCompensation(db, input.stepKey, async (tx) => {
        const { count } = await tx.order.updateMany({
          where: { id: input.orderId, status: 'PENDING' },
          data: { status: 'CANCELLED', cancelReason: input.reason },
        });
        if (count > 0) {
          await appendEvent(tx, {
            type: 'OrderCancelled',
            aggregateId: input.orderId,
            correlation,
            payload: { reason: input.reason },
          });
        }
        return { cancelled: count > 0 };
      });
    },

    confirmOrder: async (input: ConfirmOrderInput): Promise<{ confirmed: true }> => {
      const correlation = activityCorrelation(input.orderId);
      return executeOnce(
        db,
        input.key,
        async (tx) => {
          const order = await tx.order.update({
            where: { id: input.orderId, status: 'PENDING' },
            data: {
              status: 'CONFIRMED',
              totalCents: input.totalCents,
              paymentId: input.paymentId,
              shipmentId: input.shipmentId,
              shippingCents: input.shippingRate.amountCents,
              shippingRateSource: input.shippingRate.source,
            },
          });
          await appendEvent(tx, {
            type: 'OrderConfirmed',
            aggregateId: order.id,
            correlation,
            payload: {
              totalCents: input.totalCents,
              currency: order.currency,
              paymentId: input.paymentId,
              shipmentId: input.shipmentId,
              shippingRate: input.shippingRate,
            },
          });
          return { confirmed: true as const };
        },
        {
          rememberRejection: true,
          // Two executions at once (an attempt Temporal gave up on, beside its retry) take turns: on PostgreSQL the
          // second used to wait on the order row's lock, find it CONFIRMED and fail, instead of reading the answer.
          fence: input.key,
        },
      );
    },
  };
}

export type OrdersActivities = ReturnType<typeof createOrdersActivities>;
