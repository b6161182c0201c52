import { randomInt, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { ShippingDb } from '../db';
import type { ShippingAddress } from '../domain/order';
import { undeliverablePostalCode } from '../domain/failure-triggers';
import { rejectionTypes } from '../domain/rejections';
import type { ShippingRate } from '../domain/shipping-rate';
import { activityCorrelation, appendEvent } from '../events';
import { carrierName } from '../partners/contract';
import { CarrierRefusal, type CarrierClient } from '../partners/carrier-client';
import { executeCompensation, executeStep, Rejection } from './idempotency';

export interface CreateShipmentInput {
  key: string;
  orderId: string;
  address: ShippingAddress;
  /** Items in the parcel, which the carrier prices by. */
  itemCount: number;
}

export interface Shipment {
  shipmentId: string;
  carrier: string;
  trackingNumber: string;
  rate: ShippingRate;
}

export interface CancelShipmentInput {
  /** The key of the create-shipment step being compensated. */
  stepKey: string;
  orderId: string;
}

type Quote = { rate: ShippingRate } | { refusal: CarrierRefusal };

export function createShippingActivities(db: ShippingDb, carrier: CarrierClient) {
  /** Asked before the transaction, which must not stay open across a network call. */
  async function quote(input: CreateShipmentInput): Promise<Quote> {
    try {
      const { postalCode, country } = input.address;
      return { rate: await carrier.quote({ postalCode, country, itemCount: input.itemCount }) };
    } catch (error) {
      if (error instanceof CarrierRefusal) return { refusal: error };
      throw error;
    }
  }

  return {
    /**
     * Books the parcel at the carrier's quoted rate, or at the flat rate when
     * the carrier cannot quote (the shipment says which). A repeat of a step
     * already done asks for a quote again and discards it: the stored
     * shipment is the answer.
     */
    createShipment: async (input: CreateShipmentInput): Promise<Shipment> => {
      const correlation = activityCorrelation(input.orderId);
      const locallyUndeliverable = input.address.postalCode === undeliverablePostalCode;
      const quoted = locallyUndeliverable ? undefined : await quote(input);
      if (quoted && 'refusal' in quoted && quoted.refusal.problem.status !== 422) {
        // The carrier cannot read our request: a bug, which retrying repeats.
        throw ApplicationFailure.nonRetryable(
          `The carrier refused the rate request: ${quoted.refusal.message}`,
          'CarrierRefusal',
        );
      }
      return executeStep(db, input.key, async (tx) => {
        if (!quoted || 'refusal' in quoted) {
          throw new Rejection(
            rejectionTypes.addressUndeliverable,
            `${carrierName} does not deliver to postal code ${input.address.postalCode}`,
          );
        }
        const { rate } = quoted;
        const shipment: Shipment = {
          shipmentId: `shp_${randomUUID()}`,
          carrier: carrierName,
          trackingNumber: `PW${randomInt(10 ** 9, 10 ** 10)}`,
          rate,
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
            rateCents: rate.amountCents,
            rateSource: rate.source,
            rateQuoteId: rate.source === 'carrier-quote' ? rate.quoteId : null,
            rateNote: rate.source === 'flat-rate' ? rate.reason : null,
          },
        });
        await appendEvent(tx, {
          type: 'ShipmentCreated',
          createdWithAggregate: true,
          aggregateId: shipment.shipmentId,
          correlation,
          payload: { carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, rate },
        });
        return shipment;
      });
    },

    cancelShipment: async (input: CancelShipmentInput): Promise<{ cancelled: boolean }> => {
      const correlation = activityCorrelation(input.orderId);
      return executeCompensation(db, input.stepKey, async (tx) => {
        const { count } = await tx.shipment.updateMany({
          where: { key: input.stepKey, status: 'CREATED' },
          data: { status: 'CANCELLED' },
        });
        if (count > 0) {
          const shipment = await tx.shipment.findUniqueOrThrow({ where: { key: input.stepKey } });
          await appendEvent(tx, {
            type: 'ShipmentCancelled',
            aggregateId: shipment.id,
            correlation,
            payload: { trackingNumber: shipment.trackingNumber },
          });
        }
        return { cancelled: count > 0 };
      });
    },
  };
}

export type ShippingActivities = ReturnType<typeof createShippingActivities>;
