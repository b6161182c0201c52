/**
 * An operator's view of a service's outbox: how many events are in each
 * state, which are parked (the dead letters) and why, and re-driving them.
 * scripts/outbox.ts puts these on the command line.
 */
import { systemClock, type RelayClock } from './relay';
import {
  aggregateKey,
  ofAggregates,
  outboxStatuses,
  type OutboxStatus,
  type OutboxTable,
  type StoredOutboxRow,
} from './relay-store';

export interface OutboxStatusReport {
  counts: Record<OutboxStatus, number>;
  /** When the oldest event still waiting for delivery occurred; null when none waits. */
  oldestPendingOccurredAt: Date | null;
}

export async function outboxStatus(db: OutboxTable): Promise<OutboxStatusReport> {
  const counts = await Promise.all(outboxStatuses.map((status) => db.outboxEvent.count({ where: { status } })));
  const oldest = await db.outboxEvent.findFirst({ where: { status: 'PENDING' }, orderBy: { position: 'asc' } });
  return {
    counts: Object.fromEntries(outboxStatuses.map((status, index) => [status, counts[index] ?? 0])) as Record<
      OutboxStatus,
      number
    >,
    oldestPendingOccurredAt: oldest?.occurredAt ?? null,
  };
}

export interface ParkedEvent {
  eventId: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number;
  orderId: string;
  occurredAt: Date;
  attempts: number;
  lastError: string | null;
  /** Later events of the same aggregate waiting behind this one. */
  heldBack: number;
}

/** The parked events, oldest first (at most `limit`). */
export async function listParked(db: OutboxTable, options: { limit?: number } = {}): Promise<ParkedEvent[]> {
  const parked = await db.outboxEvent.findMany({
    where: { status: 'PARKED' },
    orderBy: { position: 'asc' },
    take: options.limit ?? 100,
  });
  if (parked.length === 0) return [];
  const waiting = await db.outboxEvent.findMany({
    where: { status: 'PENDING', ...ofAggregates(parked) },
    orderBy: { position: 'asc' },
  });
  const heldBack = (row: StoredOutboxRow) =>
    waiting.filter(
      (other) => aggregateKey(other) === aggregateKey(row) && other.aggregateVersion > row.aggregateVersion,
    ).length;
  return parked.map((row) => ({
    eventId: row.eventId,
    type: row.type,
    aggregateType: row.aggregateType,
    aggregateId: row.aggregateId,
    aggregateVersion: row.aggregateVersion,
    orderId: row.orderId,
    occurredAt: row.occurredAt,
    attempts: row.attempts,
    lastError: row.lastError,
    heldBack: heldBack(row),
  }));
}

export interface RedriveResult {
  /** Parked events now PENDING again, due at once with attempts reset. */
  redriven: string[];
  /** Requested ids that are not parked in this outbox (unknown, pending or delivered). */
  notParked: string[];
}

/**
 * Parked events back to PENDING with their attempts reset: the relay
 * delivers them on its next poll, then the events their aggregates held back.
 * lastError stays until the next failure, as a record of why they parked.
 */
export async function redrive(
  db: OutboxTable,
  eventIds: readonly string[] | 'all',
  clock: RelayClock = systemClock,
): Promise<RedriveResult> {
  const parked = await db.outboxEvent.findMany({
    where: eventIds === 'all' ? { status: 'PARKED' } : { status: 'PARKED', eventId: { in: [...eventIds] } },
    orderBy: { position: 'asc' },
  });
  const redriven = parked.map((row) => row.eventId);
  if (redriven.length > 0) {
    await db.outboxEvent.updateMany({
      where: { status: 'PARKED', eventId: { in: redriven } },
      data: {
        status: 'PENDING',
        attempts: 0,
        nextAttemptAt: new Date(clock.now()),
        leaseOwner: null,
        leaseExpiresAt: null,
      },
    });
  }
  const found = new Set(redriven);
  return { redriven, notParked: eventIds === 'all' ? [] : eventIds.filter((id) => !found.has(id)) };
}
