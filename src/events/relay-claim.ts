/**
 * How a relay instance claims a batch of outbox rows so that instances
 * sharing a database never deliver one aggregate's events concurrently or
 * out of order (the why of the relay is in relay.ts).
 *
 * An aggregate's events may be delivered only from its first undelivered one
 * on: a row is taken only if every earlier row of its aggregate is DELIVERED
 * or taken in the same claim. So a row is held back while an earlier one is
 * waiting for its retry, leased by another instance, or PARKED.
 *
 * One code path for SQLite and PostgreSQL, in three steps:
 * 1. Read: due rows (PENDING, nextAttemptAt passed, lease free or expired) in
 *    position order, and every undelivered row of their aggregates; keep each
 *    aggregate's claimable prefix.
 * 2. Lease: one conditional UPDATE of those rows, repeating the "due, lease
 *    free" condition. A single UPDATE is atomic on both databases (PostgreSQL
 *    re-checks the condition on a row another transaction just changed), so
 *    of two instances racing for a row exactly one leases it.
 * 3. Verify: read the aggregates' undelivered rows again and keep, per
 *    aggregate, only the prefix this instance now holds. Another instance may
 *    have leased an earlier row between steps 1 and 2; this instance's later
 *    rows of that aggregate are then released, not delivered. DELIVERED is
 *    final, so a prefix verified here stays valid while the lease lasts.
 *
 * FOR UPDATE SKIP LOCKED would do steps 1 and 2 in one statement on
 * PostgreSQL, but SQLite has no row locks and the per-aggregate rule needs
 * the verification anyway; one path keeps both databases honest in tests.
 */
import { aggregateKey, ofAggregates, type OutboxTable, type OutboxWhere, type StoredOutboxRow } from './relay-store';

export interface ClaimRequest {
  owner: string;
  /** Wall-clock ms: leases and retry times are compared across processes. */
  now: number;
  leaseMs: number;
  batchSize: number;
  /**
   * How many pages of `batchSize` due rows to scan past rows that are held
   * back (behind a parked or retrying event of their aggregate), so that a
   * stuck aggregate does not starve the others.
   */
  scanPages: number;
}

export interface Claim {
  /** The rows this instance holds, in position order (per aggregate: version order). */
  rows: StoredOutboxRow[];
  /** When the lease ends: delivery must not start after it. */
  leaseExpiresAt: number;
}

function dueAt(now: Date): OutboxWhere {
  return {
    status: 'PENDING',
    nextAttemptAt: { lte: now },
    OR: [{ leaseOwner: null }, { leaseExpiresAt: { lte: now } }],
  };
}

function isDue(row: StoredOutboxRow, now: Date): boolean {
  return (
    row.status === 'PENDING' &&
    row.nextAttemptAt <= now &&
    (row.leaseOwner === null || (row.leaseExpiresAt !== null && row.leaseExpiresAt <= now))
  );
}

/**
 * Per aggregate, its undelivered rows in version order up to the first one
 * `take` refuses: the rows that may be delivered now, in that order.
 */
function deliverablePrefixes(
  undelivered: readonly StoredOutboxRow[],
  take: (row: StoredOutboxRow) => boolean,
): StoredOutboxRow[] {
  const byAggregate = new Map<string, StoredOutboxRow[]>();
  for (const row of undelivered) {
    const key = aggregateKey(row);
    byAggregate.set(key, [...(byAggregate.get(key) ?? []), row]);
  }
  const prefixes: StoredOutboxRow[] = [];
  for (const rows of byAggregate.values()) {
    rows.sort((a, b) => a.aggregateVersion - b.aggregateVersion);
    for (const row of rows) {
      if (!take(row)) break;
      prefixes.push(row);
    }
  }
  return prefixes.sort((a, b) => a.position - b.position);
}

function undeliveredRowsOf(db: OutboxTable, rows: readonly StoredOutboxRow[]): PromiseLike<StoredOutboxRow[]> {
  return db.outboxEvent.findMany({
    where: { status: { not: 'DELIVERED' }, ...ofAggregates(rows) },
    orderBy: { position: 'asc' },
  });
}

/** Step 1: the rows worth trying to lease, at most `batchSize`. */
async function selectCandidates(db: OutboxTable, request: ClaimRequest, now: Date): Promise<StoredOutboxRow[]> {
  const chosen = new Map<number, StoredOutboxRow>();
  let after = 0;
  for (let page = 0; page < request.scanPages && chosen.size < request.batchSize; page += 1) {
    const due = await db.outboxEvent.findMany({
      where: { ...dueAt(now), position: { gt: after } },
      orderBy: { position: 'asc' },
      take: request.batchSize,
    });
    if (due.length === 0) break;
    after = due[due.length - 1]!.position;
    for (const row of deliverablePrefixes(await undeliveredRowsOf(db, due), (row) => isDue(row, now))) {
      chosen.set(row.position, row);
    }
    if (due.length < request.batchSize) break;
  }
  // Lowest positions first keeps a prefix of every aggregate (positions grow with versions).
  return [...chosen.values()].sort((a, b) => a.position - b.position).slice(0, request.batchSize);
}

/** Gives rows back without delivering them: they are due again at once, for any instance. */
export async function releaseRows(db: OutboxTable, owner: string, rows: readonly StoredOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.outboxEvent.updateMany({
    where: { position: { in: rows.map((row) => row.position) }, leaseOwner: owner },
    data: { leaseOwner: null, leaseExpiresAt: null },
  });
}

/** Leases up to `batchSize` rows that this instance may deliver now, in the order it must deliver them. */
export async function claimBatch(db: OutboxTable, request: ClaimRequest): Promise<Claim> {
  const now = new Date(request.now);
  const leaseExpiresAt = request.now + request.leaseMs;
  const candidates = await selectCandidates(db, request, now);
  if (candidates.length === 0) return { rows: [], leaseExpiresAt };

  const positions = candidates.map((row) => row.position);
  const leased = await db.outboxEvent.updateMany({
    where: { ...dueAt(now), position: { in: positions } },
    data: { leaseOwner: request.owner, leaseExpiresAt: new Date(leaseExpiresAt) },
  });
  if (leased.count === 0) return { rows: [], leaseExpiresAt };

  const requested = new Set(positions);
  const undelivered = await undeliveredRowsOf(db, candidates);
  const isMine = (row: StoredOutboxRow) => row.leaseOwner === request.owner && requested.has(row.position);
  const rows = deliverablePrefixes(undelivered, isMine);
  const kept = new Set(rows.map((row) => row.position));
  await releaseRows(
    db,
    request.owner,
    undelivered.filter((row) => isMine(row) && !kept.has(row.position)),
  );
  return { rows, leaseExpiresAt };
}
