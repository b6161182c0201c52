/**
 * What the relay and its operator commands need of a service's OutboxEvent
 * table, typed structurally: the four services' generated clients are
 * distinct classes with identical OutboxEvent models (and each has a SQLite
 * and a PostgreSQL variant), so any of them fits without a cast, as
 * OutboxWriter does for appendEvent.
 */
import type { OutboxEventRow } from './outbox';

export const outboxStatuses = ['PENDING', 'DELIVERED', 'PARKED'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

/** A stored outbox row, the relay's columns included. */
export interface StoredOutboxRow extends OutboxEventRow {
  position: number;
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  deliveredAt: Date | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
}

/** The filters the relay uses; each is one Prisma supports on both databases. */
export interface OutboxWhere {
  position?: { in: number[] } | { gt: number };
  eventId?: { in: string[] };
  aggregateType?: string;
  aggregateId?: string;
  status?: OutboxStatus | { not: OutboxStatus };
  nextAttemptAt?: { lte: Date };
  leaseOwner?: string | null;
  leaseExpiresAt?: { lte: Date };
  OR?: OutboxWhere[];
}

export interface OutboxUpdate {
  status?: OutboxStatus;
  attempts?: number;
  nextAttemptAt?: Date;
  lastError?: string | null;
  deliveredAt?: Date | null;
  leaseOwner?: string | null;
  leaseExpiresAt?: Date | null;
}

/** The slice of any service's client the relay uses. */
export interface OutboxTable {
  outboxEvent: {
    findMany(args: { where: OutboxWhere; orderBy: { position: 'asc' }; take?: number }): PromiseLike<StoredOutboxRow[]>;
    findFirst(args: { where: OutboxWhere; orderBy: { position: 'asc' } }): PromiseLike<StoredOutboxRow | null>;
    updateMany(args: { where: OutboxWhere; data: OutboxUpdate }): PromiseLike<{ count: number }>;
    count(args: { where: OutboxWhere }): PromiseLike<number>;
  };
}

/** Rows of the same aggregate share this key. */
export function aggregateKey(row: Pick<OutboxEventRow, 'aggregateType' | 'aggregateId'>): string {
  return `${row.aggregateType}/${row.aggregateId}`;
}

/** A filter matching every row of the given rows' aggregates. */
export function ofAggregates(rows: readonly Pick<OutboxEventRow, 'aggregateType' | 'aggregateId'>[]): OutboxWhere {
  const distinct = new Map(rows.map((row) => [aggregateKey(row), row]));
  return {
    OR: [...distinct.values()].map(({ aggregateType, aggregateId }) => ({ aggregateType, aggregateId })),
  };
}
