import { monotonicFactory } from 'ulid';

/**
 * One monotonic factory per process: two events created in the same
 * millisecond still get increasing ids (the second increments the first's
 * random part), so ids sort in creation order within a worker even when the
 * clock does not move or steps back. Across processes they sort by time only
 * roughly; ordering that matters (per aggregate) comes from aggregateVersion.
 */
const nextUlid = monotonicFactory();

/** A new event id whose time part is `now` (ms since the epoch), the event's occurredAt. */
export function newEventId(now: number): string {
  return nextUlid(now);
}
