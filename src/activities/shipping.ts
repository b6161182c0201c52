import { randomInt, randomUUID } from 'node:crypto';
import type { ShippingDb } from '../db';
import type { ShippingAddress } from '../domain/order';
import { undeliverablePostalCode } from '../domain/failure-triggers';
import { rejectionTypes } from '../domain/rejections';
import { executeCompensation, executeStep, Rejection } from './idempotency';

export interface CreateShipmentInput {
  key: string;
  orderId: string;
  address: ShippingAddress;
}

export interface Shipment {
  shipmentId: string;
  carrier: string;
  trackingNumber: string;
}

export interface CancelShipmentInput {
  /** The key of the create-shipment step being compensated. */
  stepKey: string;
  orderId: string;
}

const carrier = 'Parcelwise';

export function createShippingActivities(db: ShippingDb) {
  return {
    createShipment: async (input: CreateShipmentInput): Promise<Shipment> => {
      return executeStep(db, input.key, async (tx) => {
        if (input.address.postalCode === undeliverablePostalCode) {
          throw new Rejection(
            rejectionTypes.addressUndeliverable,
            `${carrier} does not deliver to postal code ${input.address.postalCode}`,
          );
        }
        const shipment: Shipment = {
          shipmentId: `shp_${randomUUID()}`,
          carrier,
          trackingNumber: `PW${randomInt(10 ** 9, 10 ** 10)}`,
        };
        await tx.shipment.create({
          data: {
            id: shipment.shipmentId,
            key: input.key,
            orderId: input.orderId,
            status: 'CREATED',
            ...input.address,
            carrier: shipment.carrier,
            trackingNumber: shipment.trackingNumber,
          },
        });
        return shipment;
      });
    },

    cancelShipment: async (input: CancelShipmentInput): Promise<{ cancelled: boolean }> => {
      return executeCompensation(db, input.stepKey, async (tx) => {
        const { count } = await tx.shipment.updateMany({
          where: { key: input.stepKey, status: 'CREATED' },
          data: { status: 'CANCELLED' },
        });
        return { cancelled: count > 0 };
      });
    },
  };
}

export type ShippingActivities = ReturnType<typeof createShippingActivities>;
