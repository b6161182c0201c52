import { randomUUID } from 'node:crypto';
import type { InventoryDb } from '../db';
import type { OrderItem } from '../domain/order';
import { rejectionTypes } from '../domain/rejections';
import { activityCorrelation, appendEvent } from '../events';
import { compensationKeyOf } from '../temporal/names';
import { executeCompensation, executeOnce, executeStep, Rejection } from './idempotency';

export interface ReserveStockInput {
  key: string;
  orderId: string;
  items: OrderItem[];
}

export interface PricedLine {
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

export interface StockReservation {
  reservationId: string;
  lines: PricedLine[];
  totalCents: number;
}

export interface ReleaseStockInput {
  /** The key of the reserve-stock step being compensated. */
  stepKey: string;
  orderId: string;
}

export interface CommitReservationInput {
  key: string;
  /** The key of the reserve-stock step whose reservation is committed. */
  stepKey: string;
  orderId: string;
}

/**
 * Product rows are always written in one order, by SKU: on PostgreSQL each
 * write locks its row until commit, so two transactions taking two SKUs in
 * opposite orders would deadlock (40P01) and one would fail and be retried.
 */
function inLockOrder<Line extends { sku: string }>(lines: readonly Line[]): Line[] {
  return [...lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

export function createInventoryActivities(db: InventoryDb) {
  return {
    reserveStock: async (input: ReserveStockInput): Promise<StockReservation> => {
      const correlation = activityCorrelation(input.orderId);
      return executeStep(db, input.key, async (tx) => {
        const skus = input.items.map((item) => item.sku);
        const products = await tx.product.findMany({ where: { sku: { in: skus } } });
        const priceOf = new Map(products.map((product) => [product.sku, product.priceCents]));
        const unknown = skus.filter((sku) => !priceOf.has(sku));
        if (unknown.length > 0) {
          throw new Rejection(rejectionTypes.unknownSku, `Unknown SKU: ${unknown.join(', ')}`);
        }
        for (const { sku, quantity } of inLockOrder(input.items)) {
          // A conditional decrement: the database serialises concurrent
          // reservations of one row, so stock can never go below zero
          // (docs/OVERSELL.md). A short item throws, which rolls back the
          // items already taken.
          const { count } = await tx.product.updateMany({
            where: { sku, available: { gte: quantity } },
            data: { available: { decrement: quantity } },
          });
          if (count === 0) {
            throw new Rejection(rejectionTypes.outOfStock, `Not enough stock of ${sku} for ${quantity}`);
          }
        }
        const lines: PricedLine[] = input.items.map(({ sku, quantity }) => ({
          sku,
          quantity,
          unitPriceCents: priceOf.get(sku) ?? 0,
        }));
        const reservationId = `res_${randomUUID()}`;
        // The reservation, then its lines in one statement: a nested create inserts each line and reads it all back.
        await tx.reservation.create({
          data: { id: reservationId, key: input.key, orderId: input.orderId, status: 'RESERVED' },
          select: { id: true },
        });
        await tx.reservationLine.createMany({ data: lines.map((line) => ({ reservationId, ...line })) });
        const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
        await appendEvent(tx, {
          type: 'StockReserved',
          createdWithAggregate: true,
          aggregateId: reservationId,
          correlation,
          payload: { lines, totalCents },
        });
        return { reservationId, lines, totalCents };
      });
    },

    /**
     * Marks a reservation as sold (COMMITTED): its stock stays out of
     * `available` for good once the order is confirmed. A reservation already
     * released is refused for good, as a late step after its compensation is:
     * its stock is back on the shelf and may be sold again, so the order must
     * not be confirmed on it.
     */
    commitReservation: async (input: CommitReservationInput): Promise<{ committed: true }> => {
      const correlation = activityCorrelation(input.orderId);
      const refuseReleased = () =>
        new Rejection(
          rejectionTypes.stepAlreadyCompensated,
          `The reservation of ${input.stepKey} was already released; it cannot be committed`,
        );
      return executeOnce(
        db,
        input.key,
        async (tx) => {
          // Conditional, so that a release racing with this commit on PostgreSQL is seen after its row lock.
          const { count } = await tx.reservation.updateMany({
            where: { key: input.stepKey, status: 'RESERVED' },
            data: { status: 'COMMITTED' },
          });
          if (count === 0) {
            const reservation = await tx.reservation.findUnique({ where: { key: input.stepKey } });
            if (reservation?.status === 'RELEASED') throw refuseReleased();
            // The saga commits only after its reservation succeeded: a missing one is a fault, retried like one.
            if (reservation?.status !== 'COMMITTED') throw new Error(`No reservation under ${input.stepKey}`);
            // Committed by a racing or earlier commit: nothing changed here, so nothing to record.
            return { committed: true as const };
          }
          const reservation = await tx.reservation.findUniqueOrThrow({
            where: { key: input.stepKey },
            include: { lines: true },
          });
          await appendEvent(tx, {
            type: 'StockCommitted',
            aggregateId: reservation.id,
            correlation,
            payload: { lines: reservation.lines.map(({ sku, quantity }) => ({ sku, quantity })) },
          });
          return { committed: true as const };
        },
        {
          rememberRejection: true,
          // Decided one at a time with the release, which locks the same row first.
          fence: input.stepKey,
          refusal: { key: compensationKeyOf(input.stepKey), rejection: refuseReleased },
        },
      );
    },

    /**
     * Returns a reservation's stock, committed or not: the saga commits the
     * stock just before it confirms the order, so an order that fails at its
     * confirmation unwinds a committed reservation.
     */
    releaseStock: async (input: ReleaseStockInput): Promise<{ released: boolean }> => {
      const correlation = activityCorrelation(input.orderId);
      return executeCompensation(db, input.stepKey, async (tx) => {
        const reservation = await tx.reservation.findUnique({
          where: { key: input.stepKey },
          include: { lines: true },
        });
        if (!reservation || reservation.status === 'RELEASED') return { released: false };
        for (const line of inLockOrder(reservation.lines)) {
          await tx.product.update({
            where: { sku: line.sku },
            data: { available: { increment: line.quantity } },
          });
        }
        await tx.reservation.update({ where: { id: reservation.id }, data: { status: 'RELEASED' } });
        await appendEvent(tx, {
          type: 'StockReleased',
          aggregateId: reservation.id,
          correlation,
          payload: { lines: reservation.lines.map(({ sku, quantity }) => ({ sku, quantity })) },
        });
        return { released: true };
      });
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
