/**
 * The projection: what the outbox relay's `deliver` calls.
 *
 *   deliver: (events, { signal }) => applyEvents(viewsDb, events, { signal })
 *
 * For each order an event batch touches, in one transaction: store the
 * events the history does not have yet (by event id), then refold the
 * order's view from ALL its stored events (fold.ts). A duplicate is skipped
 * at the first step; an event arriving early or late only changes which
 * events are stored when the fold runs, and the fold does not depend on
 * their order. A batch whose events are all known commits nothing.
 *
 * Concurrency: four relays (one per service) may apply events of the same
 * order at the same moment. Each transaction is Serializable (SQLite's only
 * level, and it takes the write lock up front, see src/db/adapters.ts); on
 * PostgreSQL the loser of a conflict (it folded without the other's event)
 * fails with a serialization error and is retried, so the last view written
 * always folds every committed event.
 */
import type { ViewsDb } from '../db';
import { readOutboxEvent, type DomainEvent } from '../events';
import { foldOrder, type FoldedOrder } from './fold';

type ViewsTransaction = Parameters<Parameters<ViewsDb['$transaction']>[0]>[0];

export interface ApplyOutcome {
  /** Events stored by this call. */
  applied: number;
  /** Events that were already stored (delivered before) or repeated within the batch. */
  duplicates: number;
  /** Orders whose view was recomputed. */
  orders: string[];
}

export interface ApplyOptions {
  /** Stops before the next order once aborted (the relay's delivery timed out). */
  signal?: AbortSignal;
}

/** Transient conflicts between concurrent projections: retried. */
const retryableCodes = new Set([
  'P2034', // write conflict or deadlock (PostgreSQL serialization failure)
  'P2002', // a concurrent transaction stored the same event id first
]);
const maxAttempts = 5;

/** Applies `events` (any orders, any order, duplicates allowed): idempotent. */
export async function applyEvents(
  db: ViewsDb,
  events: readonly DomainEvent[],
  options: ApplyOptions = {},
): Promise<ApplyOutcome> {
  const byOrder = new Map<string, DomainEvent[]>();
  for (const event of events) {
    const batch = byOrder.get(event.correlation.orderId) ?? [];
    batch.push(event);
    byOrder.set(event.correlation.orderId, batch);
  }
  const outcome: ApplyOutcome = { applied: 0, duplicates: 0, orders: [] };
  for (const [orderId, batch] of byOrder) {
    options.signal?.throwIfAborted();
    const stored = await withConflictRetry(() =>
      db.$transaction(
        async (tx) => {
          const count = await storeEvents(tx, batch);
          if (count > 0) await refoldOrder(tx, orderId);
          return count;
        },
        { isolationLevel: 'Serializable' },
      ),
    );
    outcome.applied += stored;
    outcome.duplicates += batch.length - stored;
    if (stored > 0) outcome.orders.push(orderId);
  }
  return outcome;
}

/** Stores the events the history lacks; returns how many it stored. */
export async function storeEvents(tx: ViewsTransaction, events: readonly DomainEvent[]): Promise<number> {
  const unique = [...new Map(events.map((event) => [event.id, event])).values()];
  if (unique.length === 0) return 0;
  const known = await tx.orderEvent.findMany({
    where: { eventId: { in: unique.map((event) => event.id) } },
    select: { eventId: true },
  });
  const knownIds = new Set(known.map((row) => row.eventId));
  const fresh = unique.filter((event) => !knownIds.has(event.id));
  if (fresh.length === 0) return 0;
  await tx.orderEvent.createMany({ data: fresh.map(storedEventRow) });
  return fresh.length;
}

/** The OrderEvent row an event is stored as (appliedAt left to the database). */
export function storedEventRow(event: DomainEvent) {
  return {
    eventId: event.id,
    orderId: event.correlation.orderId,
    workflowId: event.correlation.workflowId,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    aggregateVersion: event.aggregateVersion,
    type: event.type,
    schemaVersion: event.schemaVersion,
    payload: JSON.stringify(event.payload),
    occurredAt: new Date(event.occurredAt),
  };
}

/** The OrderView row of a fold: the fold, with its items as JSON text. */
export function orderViewRow(folded: FoldedOrder) {
  return { ...folded, items: JSON.stringify(folded.items) };
}

/**
 * The order's stored events, read back at the catalogue's current schema
 * versions (a payload stored at an older one is upcast; an unreadable one
 * throws UnreadableEvent, failing the transaction), in the fold's order.
 */
export async function storedEventsOf(
  tx: Pick<ViewsTransaction, 'orderEvent'>,
  orderId: string,
): Promise<DomainEvent[]> {
  const rows = await tx.orderEvent.findMany({ where: { orderId } });
  return rows.map(readOutboxEvent);
}

/** Recomputes the order's view from all its stored events. */
export async function refoldOrder(tx: ViewsTransaction, orderId: string): Promise<FoldedOrder | null> {
  const events = await storedEventsOf(tx, orderId);
  if (events.length === 0) {
    await tx.orderView.deleteMany({ where: { orderId } });
    return null;
  }
  const folded = foldOrder(events);
  const row = orderViewRow(folded);
  await tx.orderView.upsert({ where: { orderId }, create: row, update: row });
  return folded;
}

async function withConflictRetry<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transaction();
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (attempt >= maxAttempts || typeof code !== 'string' || !retryableCodes.has(code)) throw error;
      // A little jitter so two conflicting projections do not meet again at once.
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}
