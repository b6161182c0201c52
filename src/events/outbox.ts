/**
 * The transactional outbox: each service records its domain events in its
 * own OutboxEvent table, in the same Prisma transaction as the change they
 * describe. So an event exists exactly when its change committed: a rolled
 * back step (a Rejection, a failure) leaves neither, and an idempotent repeat,
 * which returns the stored result without running its work, writes no second
 * one. Services call {@link appendEvent} inside the `work(tx)` of
 * executeStep / executeOnce / executeCompensation (src/activities), and only
 * when something changed: a compensation with nothing to undo records nothing.
 *
 * The table (prisma/shared/outbox/models.prisma, in each of the four services' schemas):
 * - `eventId` (ULID), `type`, `schemaVersion`, `payload` (JSON text),
 *   `aggregateType` / `aggregateId` / `aggregateVersion`, `orderId` and
 *   `workflowId` (the correlation), `occurredAt`: the envelope.
 * - `position`, an autoincrement primary key: the order a relay scans rows
 *   in. Positions are handed out at insert, not at commit, so a row may
 *   become visible after one with a higher position: a relay must select
 *   by status, never remember "the last position delivered".
 * - `status` PENDING | DELIVERED | PARKED, `attempts`, `nextAttemptAt`,
 *   `lastError`, `deliveredAt`: delivery at least once with backoff, and a
 *   dead letter (PARKED) for rows that keep failing. Index (status, position)
 *   makes "the next pending rows in position order" a range scan.
 * - `leaseOwner`, `leaseExpiresAt`: a relay instance claims rows before
 *   delivering them; another may take them over once the lease expired.
 *
 * Ordering: within one aggregate, events are numbered 1, 2, 3… in the writing
 * transaction (the highest stored version + 1). The unique constraint on
 * (aggregateType, aggregateId, aggregateVersion) settles a race: two
 * transactions that read the same highest version cannot both commit; the
 * loser fails with a unique violation and is retried like any transient
 * failure (executeOnce rethrows it when no result is stored under its key).
 * A relay delivers an aggregate's events in aggregateVersion order and holds
 * back the later ones while an earlier one is pending or parked. Since an
 * aggregate's later event can only be written after its earlier one
 * committed, positions increase with versions within an aggregate too.
 *
 * Versioning: events are written at their type's current schema version
 * (catalogue.ts) and read back through {@link readOutboxEvent}, which upcasts
 * older payloads to the current one; stored rows are never rewritten.
 */
import { eventCatalogue, type DomainEvent, type EventType, type PayloadInputOf, type PayloadOf } from './catalogue';
import type { AnyEventDefinition } from './define';
import type { Correlation, EventEnvelope } from './envelope';
import { newEventId } from './ids';
import { markOutboxWrite } from './outbox-commits';
import { UnreadableEvent, upcastPayload } from './upcast';

/** The columns that hold an event's envelope; the relay's columns start at their defaults. */
export interface OutboxEventRow {
  eventId: string;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number;
  type: string;
  schemaVersion: number;
  payload: string;
  orderId: string;
  workflowId: string;
  occurredAt: Date;
}

/** The slice of a service's transaction client that appending an event needs. */
export interface OutboxWriter {
  outboxEvent: {
    findFirst(args: {
      where: { aggregateType: string; aggregateId: string };
      orderBy: { aggregateVersion: 'desc' };
      select: { aggregateVersion: true };
    }): PromiseLike<{ aggregateVersion: number } | null>;
    create(args: { data: OutboxEventRow }): PromiseLike<unknown>;
  };
}

/** What a service says about an event; the envelope's other fields are filled in by {@link appendEvent}. */
export interface NewEvent<T extends EventType> {
  type: T;
  aggregateId: string;
  correlation: Correlation;
  payload: PayloadInputOf<T>;
  /**
   * The aggregate was created by this same transaction (a fresh order, reservation or shipment id), so this is its
   * first event: version 1, without reading the highest stored one. Were it wrong, the unique version constraint
   * would refuse the row and the transaction would roll back.
   */
  createdWithAggregate?: true;
}

export type EventOf<T extends EventType> = EventEnvelope<T, PayloadOf<T>>;

/**
 * Writes `event` to the service's outbox through `tx`, the transaction that
 * makes the change it records, at the type's current schema version and the
 * aggregate's next version. The payload is validated first: a payload that
 * does not match throws, and the change rolls back with it.
 */
export async function appendEvent<T extends EventType>(tx: OutboxWriter, event: NewEvent<T>): Promise<EventOf<T>> {
  const definition: AnyEventDefinition = eventCatalogue[event.type];
  const payload = definition.payload.parse(event.payload) as PayloadOf<T>;
  const { aggregateType } = definition;
  const latest = event.createdWithAggregate
    ? null
    : await tx.outboxEvent.findFirst({
        where: { aggregateType, aggregateId: event.aggregateId },
        orderBy: { aggregateVersion: 'desc' },
        select: { aggregateVersion: true },
      });
  const now = Date.now();
  const envelope: EventOf<T> = {
    id: newEventId(now),
    type: event.type,
    schemaVersion: definition.schemaVersion,
    aggregateType,
    aggregateId: event.aggregateId,
    aggregateVersion: (latest?.aggregateVersion ?? 0) + 1,
    correlation: { orderId: event.correlation.orderId, workflowId: event.correlation.workflowId },
    occurredAt: new Date(now).toISOString(),
    payload,
  };
  await tx.outboxEvent.create({ data: toRow(envelope) });
  markOutboxWrite(tx);
  return envelope;
}

function toRow(envelope: EventEnvelope): OutboxEventRow {
  return {
    eventId: envelope.id,
    aggregateType: envelope.aggregateType,
    aggregateId: envelope.aggregateId,
    aggregateVersion: envelope.aggregateVersion,
    type: envelope.type,
    schemaVersion: envelope.schemaVersion,
    payload: JSON.stringify(envelope.payload),
    orderId: envelope.correlation.orderId,
    workflowId: envelope.correlation.workflowId,
    occurredAt: new Date(envelope.occurredAt),
  };
}

function parseJson(row: OutboxEventRow): unknown {
  try {
    return JSON.parse(row.payload);
  } catch (error) {
    throw new UnreadableEvent(`Outbox event ${row.eventId}: the payload is not JSON`, { cause: error });
  }
}

/**
 * A stored outbox row as an event at its type's current schema version (an
 * older payload is upcast). Throws UnreadableEvent for a row this code cannot
 * read (see upcast.ts).
 */
export function readOutboxEvent(row: OutboxEventRow): DomainEvent {
  const payload = upcastPayload(row.type, row.schemaVersion, parseJson(row));
  const type = row.type as EventType; // upcastPayload refused an unknown type
  const definition: AnyEventDefinition = eventCatalogue[type];
  if (row.aggregateType !== definition.aggregateType) {
    throw new UnreadableEvent(
      `Outbox event ${row.eventId}: a ${row.type} belongs to a ${definition.aggregateType}, not a ${row.aggregateType}`,
    );
  }
  return {
    id: row.eventId,
    type,
    schemaVersion: definition.schemaVersion,
    aggregateType: definition.aggregateType,
    aggregateId: row.aggregateId,
    aggregateVersion: row.aggregateVersion,
    correlation: { orderId: row.orderId, workflowId: row.workflowId },
    occurredAt: row.occurredAt.toISOString(),
    payload,
  } as DomainEvent;
}
