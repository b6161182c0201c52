/**
 * Rebuilding the read model from scratch: wipe it, then re-apply every event
 * in the four services' outboxes (delivered or not), read through
 * readOutboxEvent like the relay reads them. The view comes from the same
 * store-then-refold code as incremental application (projection.ts), and a
 * fold depends only on the set of an order's events, so a rebuild yields the
 * same views as delivering the same events one by one.
 *
 * Wipe first, read second: an event the relay delivers while a rebuild runs
 * is either in the outbox when the rebuild reads it, or applied by the relay
 * after the wipe; either way it ends up in the view, once (the projection is
 * idempotent). A row this code cannot read (UnreadableEvent) is skipped and
 * reported, as the relay parks it.
 */
import type { ViewsDb } from '../db';
import { readOutboxEvent, UnreadableEvent, type DomainEvent, type OutboxEventRow } from '../events';
import { serviceNames, type ServiceName } from '../temporal/names';
import { refoldOrder, storeEvents } from './projection';

/** What a rebuild reads of a service's outbox: rows in position order, a page at a time. */
export interface OutboxSource {
  outboxEvent: {
    findMany(args: {
      where: { position: { gt: number } };
      orderBy: { position: 'asc' };
      take: number;
    }): PromiseLike<(OutboxEventRow & { position: number })[]>;
  };
}

export type RebuildProgress =
  | { phase: 'wiped' }
  | { phase: 'read'; service: ServiceName; events: number; done: boolean }
  | { phase: 'folded'; orders: number; of: number };

export interface RebuildOptions {
  /** Outbox rows read (and events stored) per transaction; default 500. */
  pageSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildReport {
  eventsRead: Record<ServiceName, number>;
  /** Ids of outbox rows skipped as unreadable, per service. */
  unreadable: Record<ServiceName, string[]>;
  orders: number;
  durationMs: number;
}

export async function rebuildReadModel(
  sources: Record<ServiceName, OutboxSource>,
  views: ViewsDb,
  options: RebuildOptions = {},
): Promise<RebuildReport> {
  const started = performance.now();
  const pageSize = options.pageSize ?? 500;
  const progress = options.onProgress ?? (() => undefined);
  await views.$transaction([views.orderView.deleteMany(), views.orderEvent.deleteMany()]);
  progress({ phase: 'wiped' });

  const eventsRead = Object.fromEntries(serviceNames.map((service) => [service, 0])) as Record<ServiceName, number>;
  const unreadable = Object.fromEntries(serviceNames.map((service) => [service, [] as string[]])) as Record<
    ServiceName,
    string[]
  >;
  const orders = new Set<string>();
  for (const service of serviceNames) {
    let after = 0;
    for (;;) {
      const rows = await sources[service].outboxEvent.findMany({
        where: { position: { gt: after } },
        orderBy: { position: 'asc' },
        take: pageSize,
      });
      const events: DomainEvent[] = [];
      for (const row of rows) {
        try {
          events.push(readOutboxEvent(row));
        } catch (error) {
          if (!(error instanceof UnreadableEvent)) throw error;
          unreadable[service].push(row.eventId);
        }
      }
      if (events.length > 0) {
        await views.$transaction((tx) => storeEvents(tx, events), { isolationLevel: 'Serializable' });
      }
      for (const event of events) orders.add(event.correlation.orderId);
      eventsRead[service] += rows.length;
      after = rows[rows.length - 1]?.position ?? after;
      const done = rows.length < pageSize;
      progress({ phase: 'read', service, events: eventsRead[service], done });
      if (done) break;
    }
  }

  let folded = 0;
  for (const orderId of orders) {
    await views.$transaction((tx) => refoldOrder(tx, orderId), { isolationLevel: 'Serializable' });
    folded += 1;
    if (folded % 100 === 0 || folded === orders.size) progress({ phase: 'folded', orders: folded, of: orders.size });
  }
  return { eventsRead, unreadable, orders: orders.size, durationMs: Math.round(performance.now() - started) };
}
