import type { OrdersDb } from '../db';
import type { OrderItem } from '../domain/order';
import { blockedCustomerId } from '../domain/failure-triggers';
import { rejectionTypes } from '../domain/rejections';
import type { ShippingRate } from '../domain/shipping-rate';
import { executeCompensation, executeOnce, executeStep, Rejection } from './idempotency';

export interface CreateOrderInput {
  key: string;
  orderId: string;
  workflowId: string;
  customerId: string;
  items: OrderItem[];
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
      return executeStep(db, input.key, async (tx) => {
        if (input.customerId === blockedCustomerId) {
          throw new Rejection(rejectionTypes.customerBlocked, `Customer ${input.customerId} may not place orders`);
        }
        await tx.order.create({
          data: {
            id: input.orderId,
            workflowId: input.workflowId,
            customerId: input.customerId,
            status: 'PENDING',
            items: { create: input.items.map(({ sku, quantity }) => ({ sku, quantity })) },
          },
        });
        return { orderId: input.orderId };
      });
    },

    cancelOrder: async (input: CancelOrderInput): Promise<{ cancelled: boolean }> => {
      return executeCompensation(db, input.stepKey, async (tx) => {
        const { count } = await tx.order.updateMany({
          where: { id: input.orderId, status: 'PENDING' },
          data: { status: 'CANCELLED', cancelReason: input.reason },
        });
        return { cancelled: count > 0 };
      });
    },

    confirmOrder: async (input: ConfirmOrderInput): Promise<{ confirmed: true }> => {
      return executeOnce(
        db,
        input.key,
        async (tx) => {
          await tx.order.update({
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
          return { confirmed: true as const };
        },
        { rememberRejection: true },
      );
    },
  };
}

export type OrdersActivities = ReturnType<typeof createOrdersActivities>;
