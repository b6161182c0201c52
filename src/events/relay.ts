/**
 * The outbox relay: takes the events each service wrote to its OutboxEvent
 * table (outbox.ts) and hands them to a consumer (the read-model
 * projection's `deliver`), at least once, in order per aggregate.
 *
 * Its form: a loop inside each service's worker process, one per service,
 * polling that service's own database. Why there:
 * - The worker process already owns the database (its client, its
 *   migrations, its lifetime); a relay beside it needs no new process, no
 *   credentials to another service's database, and stops with it.
 * - Polling the table needs nothing either database lacks; change
 *   notification (LISTEN/NOTIFY, WAL tailing) exists on PostgreSQL only and
 *   would still need the poll to recover what was missed. Its rate: at once
 *   again after a full batch, 250 ms after a batch that found rows, and
 *   backing off (250 ms, 500 ms… up to `idlePollMaxMs`) while polls find
 *   nothing, so that a relay at rest costs next to no CPU. What keeps events
 *   prompt is the wake (outbox-commits.ts): a transaction of this process
 *   that wrote outbox rows wakes its service's relay once it committed; the
 *   wake ends an idle wait and, like a poll that found rows, resets the
 *   backoff. It does not shorten the 250 ms after a pass that found rows:
 *   under load, commits are still delivered in batches, not a pass each.
 *   The poll is still what finds rows the wake cannot announce: written by
 *   another process, left by a crash, due again after a retry delay, or
 *   released by an expired lease; they wait at most `idlePollMaxMs`.
 * - Replicas of a worker each run a relay. They share the table through
 *   leases (relay-claim.ts): an instance leases a batch for `leaseMs`, and
 *   takes an aggregate's events only from its first undelivered one, so two
 *   instances never deliver one aggregate concurrently or out of order. If
 *   an instance dies, its lease expires and another takes the rows over.
 *
 * Guarantees:
 * - At least once: a row is marked DELIVERED only after `deliver` resolved.
 *   A crash between the two delivers it again once the lease expired; the
 *   consumer absorbs the duplicate (by event id / aggregate version).
 *   Duplicates happen only then, or when a delivery outlives its lease
 *   (`deliverTimeoutMs` < `leaseMs`, and no delivery starts that could).
 * - In order per aggregate: an aggregate's event is delivered only when all
 *   its earlier events are DELIVERED. A failing or PARKED event holds back
 *   the later events of its aggregate (other aggregates flow on) until it is
 *   delivered or re-driven.
 * - Retries with backoff: a failed delivery increments `attempts`, stores
 *   `lastError`, and sets `nextAttemptAt` to now + 1 s, 2 s, 4 s… (×2 per
 *   attempt, capped at 5 min, ±20 % jitter so a recovered consumer is not hit
 *   by every row at once). This backoff lives in the row, not in memory (it
 *   must survive restarts and be shared by replicas), so it is computed here
 *   rather than by cockatiel, whose backoffs are in-memory sequences; cockatiel
 *   times out deliveries and backs off the loop itself when the database is
 *   unreachable.
 * - Dead letter: after `maxAttempts` (10: about 8.5 minutes of retries) a row
 *   is PARKED; an UnreadableEvent (unknown type, bad payload) is parked at
 *   once, retrying cannot help. Parked rows are listed and re-driven with
 *   listParked / redrive (relay-admin.ts) or `npm run outbox`.
 *
 * A batch goes to `deliver` in one call (the projection can apply it in one
 * transaction). If that call fails, the batch's events are delivered one at a
 * time, per aggregate in order, so that only the event that fails counts an
 * attempt and only its aggregate is held back.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  ExponentialBackoff,
  noJitterGenerator,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  type IBackoff,
} from 'cockatiel';
import type { DomainEvent } from './catalogue';
import { readOutboxEvent } from './outbox';
import { claimBatch, releaseRows } from './relay-claim';
import { aggregateKey, type OutboxTable, type OutboxUpdate, type StoredOutboxRow } from './relay-store';
import { UnreadableEvent } from './upcast';

/** The consumer: must tolerate duplicates, and should stop work when `signal` aborts (the delivery timed out). */
export type DeliverEvents = (events: DomainEvent[], context: { signal: AbortSignal }) => Promise<void>;

/** Wall-clock time in ms: leases and retry times are stored and compared across processes, so not monotonic. */
export interface RelayClock {
  now(): number;
}

export const systemClock: RelayClock = { now: () => Date.now() };

export interface RetryBackoff {
  /** The delay after the first failed attempt. */
  initialMs: number;
  /** No delay exceeds this (before jitter). */
  maxMs: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter). */
  jitter: number;
}

/** The subset of a pino logger the relay writes to. */
export interface RelayLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface OutboxRelayOptions {
  /** The service whose outbox this is: names the instance in leases and logs. */
  service: string;
  deliver: DeliverEvents;
  /** This instance's lease owner; unique per instance (default: service, host, pid and a random part). */
  owner?: string;
  batchSize?: number;
  /** The wait after a pass that found rows, and the first wait once polls find nothing. */
  pollIntervalMs?: number;
  /** The longest wait between polls that find nothing (see relay.ts: the wake keeps events prompt). */
  idlePollMaxMs?: number;
  leaseMs?: number;
  deliverTimeoutMs?: number;
  maxAttempts?: number;
  retryBackoff?: RetryBackoff;
  clock?: RelayClock;
  /** In [0, 1): the jitter's source; tests pass a constant. */
  random?: () => number;
  logger?: RelayLogger;
}

export const defaultRelaySettings = {
  batchSize: 50,
  pollIntervalMs: 250,
  /**
   * Idle polls double from pollIntervalMs up to this: 16 times fewer polls at rest than a steady 250 ms (each costs
   * a query and a few ms of CPU, four relays per `npm start`), while a row no wake announces (another process's, a
   * retry come due, an expired lease) still waits no more than 4 s.
   */
  idlePollMaxMs: 4_000,
  leaseMs: 30_000,
  deliverTimeoutMs: 10_000,
  maxAttempts: 10,
  retryBackoff: { initialMs: 1_000, maxMs: 5 * 60_000, jitter: 0.2 } satisfies RetryBackoff,
  /** Pages of due rows scanned past held-back ones per poll (see ClaimRequest.scanPages). */
  scanPages: 4,
  /** The loop's backoff while the database itself fails. */
  maxPollBackoffMs: 30_000,
} as const;

/** What one pass did, counted in events. */
export interface RelayPass {
  /** Leased by this pass (delivered, failed, parked or released). */
  claimed: number;
  delivered: number;
  /** Failed and due again later. */
  retrying: number;
  parked: number;
  /** Given back undelivered: held behind a failure in the same batch, or too little lease left. */
  released: number;
}

/** The delay before attempt `attempts + 1`, after `attempts` failures. */
export function retryDelayMs(attempts: number, backoff: RetryBackoff, random: () => number): number {
  const capped = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(capped * (1 - backoff.jitter + 2 * backoff.jitter * random()));
}

/** lastError is for an operator's eyes; a stack of a deep failure would only bury the message. */
const maxErrorLength = 2_000;

function describeError(error: unknown, deliverTimeoutMs: number): string {
  const text =
    error instanceof TaskCancelledError
      ? `The consumer did not finish within ${deliverTimeoutMs} ms`
      : error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
  return text.length > maxErrorLength ? `${text.slice(0, maxErrorLength - 1)}…` : text;
}

interface Readable {
  row: StoredOutboxRow;
  event: DomainEvent;
}

export class OutboxRelay {
  readonly owner: string;
  private readonly settings: Required<Omit<OutboxRelayOptions, 'owner' | 'logger'>> & { logger?: RelayLogger };
  private readonly deliveryTimeout;
  private readonly loopBackoff: ExponentialBackoff<unknown>;
  private readonly idleBackoff: ExponentialBackoff<unknown>;
  /** Where the idle backoff stands; undefined: the next idle wait is its first (pollIntervalMs). */
  private idle: IBackoff<unknown> | undefined;
  private loop: Promise<void> | undefined;
  private running = false;
  /** Set by {@link wake}; the loop clears it as a pass starts, so a wake during an idle pass means one more pass. */
  private woken = false;
  /** Whether the current sleep is an idle one, which a wake cuts short (a stop cuts any). */
  private sleepingIdle = false;
  private interruptSleep: (() => void) | undefined;

  constructor(
    private readonly db: OutboxTable,
    options: OutboxRelayOptions,
  ) {
    this.owner = options.owner ?? `${options.service}@${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.settings = {
      service: options.service,
      deliver: options.deliver,
      batchSize: options.batchSize ?? defaultRelaySettings.batchSize,
      pollIntervalMs: options.pollIntervalMs ?? defaultRelaySettings.pollIntervalMs,
      idlePollMaxMs: options.idlePollMaxMs ?? defaultRelaySettings.idlePollMaxMs,
      leaseMs: options.leaseMs ?? defaultRelaySettings.leaseMs,
      deliverTimeoutMs: options.deliverTimeoutMs ?? defaultRelaySettings.deliverTimeoutMs,
      maxAttempts: options.maxAttempts ?? defaultRelaySettings.maxAttempts,
      retryBackoff: options.retryBackoff ?? defaultRelaySettings.retryBackoff,
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      logger: options.logger,
    };
    if (this.settings.deliverTimeoutMs >= this.settings.leaseMs) {
      throw new RangeError('deliverTimeoutMs must be shorter than leaseMs, or a slow delivery outlives its lease');
    }
    this.deliveryTimeout = timeout(this.settings.deliverTimeoutMs, TimeoutStrategy.Aggressive);
    this.loopBackoff = new ExponentialBackoff({
      initialDelay: this.settings.pollIntervalMs,
      maxDelay: defaultRelaySettings.maxPollBackoffMs,
    });
    // No jitter: the polls of one relay need no spreading, and the replicas' polls do not line up anyway.
    this.idleBackoff = new ExponentialBackoff({
      initialDelay: this.settings.pollIntervalMs,
      maxDelay: Math.max(this.settings.pollIntervalMs, this.settings.idlePollMaxMs),
      generator: noJitterGenerator,
    });
  }

  /**
   * Polls until {@link stop}: at once again after a full batch, `pollIntervalMs` after one that found rows, and
   * ever later (up to `idlePollMaxMs`) while polls find nothing.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Lets the batch in flight finish (delivered and marked), then resolves; no new batch starts. */
  async stop(): Promise<void> {
    this.running = false;
    this.interruptSleep?.();
    await this.loop;
    this.loop = undefined;
  }

  /**
   * Rows were committed that this relay is to deliver: ends an idle wait at once (or, during a pass that found
   * nothing, skips the wait after it) and resets the idle backoff. While passes find rows the relay keeps its poll
   * interval, so that under load many commits make one batch rather than a pass each. Cheap to call often.
   */
  wake(): void {
    this.woken = true;
    this.idle = undefined;
    if (this.sleepingIdle) this.interruptSleep?.();
  }

  private async run(): Promise<void> {
    let failing: IBackoff<unknown> | undefined;
    while (this.running) {
      let waitMs: number;
      let idleWait = false;
      this.woken = false;
      try {
        const pass = await this.relayOnce();
        failing = undefined;
        waitMs = this.waitAfter(pass);
        idleWait = pass.claimed === 0;
      } catch (error) {
        failing = failing ? failing.next(undefined) : this.loopBackoff.next();
        waitMs = failing.duration;
        this.settings.logger?.error(
          { err: error, owner: this.owner, retryInMs: waitMs },
          'outbox relay pass failed; leased rows are taken over when their lease expires',
        );
      }
      if (waitMs > 0 && this.running && !(idleWait && this.woken)) await this.sleep(waitMs, idleWait);
    }
  }

  /** The wait before the next pass: none after a full batch, the poll interval after rows, else the idle backoff. */
  private waitAfter(pass: RelayPass): number {
    if (pass.claimed === 0) {
      this.idle = this.idle?.next(undefined) ?? this.idleBackoff.next();
      return this.idle.duration;
    }
    this.idle = undefined;
    return pass.claimed >= this.settings.batchSize ? 0 : this.settings.pollIntervalMs;
  }

  private sleep(ms: number, idle: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.interruptSleep = undefined;
        this.sleepingIdle = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepingIdle = idle;
      this.interruptSleep = () => {
        clearTimeout(timer);
        done();
      };
    });
  }

  /** One batch: claim, deliver, mark. Rejects when the database fails (the rows' leases then expire). */
  async relayOnce(): Promise<RelayPass> {
    const { clock, batchSize, leaseMs } = this.settings;
    const claim = await claimBatch(this.db, {
      owner: this.owner,
      now: clock.now(),
      leaseMs,
      batchSize,
      scanPages: defaultRelaySettings.scanPages,
    });
    const pass: RelayPass = { claimed: claim.rows.length, delivered: 0, retrying: 0, parked: 0, released: 0 };
    if (claim.rows.length === 0) return pass;

    const readable: Readable[] = [];
    const heldBack: StoredOutboxRow[] = [];
    const blocked = new Set<string>();
    for (const row of claim.rows) {
      if (blocked.has(aggregateKey(row))) {
        heldBack.push(row);
        continue;
      }
      try {
        readable.push({ row, event: readOutboxEvent(row) });
      } catch (error) {
        if (!(error instanceof UnreadableEvent)) throw error;
        await this.recordFailure(row, error, { park: true });
        pass.parked += 1;
        blocked.add(aggregateKey(row));
      }
    }
    await this.release(heldBack, pass);
    if (readable.length === 0) return pass;

    if (readable.length > 1) {
      try {
        await this.deliverWithTimeout(readable.map(({ event }) => event));
      } catch (error) {
        this.settings.logger?.warn(
          { err: error, owner: this.owner, events: readable.length },
          'outbox batch delivery failed; delivering its events one at a time',
        );
        await this.deliverOneAtATime(readable, claim.leaseExpiresAt, pass);
        return pass;
      }
      await this.markDelivered(readable.map(({ row }) => row));
      pass.delivered += readable.length;
      return pass;
    }
    await this.deliverOneAtATime(readable, claim.leaseExpiresAt, pass);
    return pass;
  }

  private async deliverOneAtATime(readable: Readable[], leaseExpiresAt: number, pass: RelayPass): Promise<void> {
    const chains = new Map<string, Readable[]>();
    for (const item of readable) {
      const key = aggregateKey(item.row);
      chains.set(key, [...(chains.get(key) ?? []), item]);
    }
    const pending = [...chains.values()];
    while (pending.length > 0) {
      const chain = pending[0]!;
      const next = chain[0]!;
      if (this.settings.clock.now() + this.settings.deliverTimeoutMs > leaseExpiresAt) {
        // A delivery started now could outlive the lease and race the instance that takes the rows over.
        await this.release(
          pending.flatMap((rest) => rest.map(({ row }) => row)),
          pass,
        );
        return;
      }
      try {
        await this.deliverWithTimeout([next.event]);
      } catch (error) {
        const parked = await this.recordFailure(next.row, error, { park: false });
        pass[parked ? 'parked' : 'retrying'] += 1;
        await this.release(
          chain.slice(1).map(({ row }) => row),
          pass,
        );
        pending.shift();
        continue;
      }
      await this.markDelivered([next.row]);
      pass.delivered += 1;
      chain.shift();
      if (chain.length === 0) pending.shift();
    }
  }

  private deliverWithTimeout(events: DomainEvent[]): Promise<void> {
    return this.deliveryTimeout.execute(({ signal }) => this.settings.deliver(events, { signal }));
  }

  /**
   * Whoever holds the lease now: the events were delivered, which is what the
   * row must say (an instance that took over after our lease expired finds
   * nothing left to do, or delivers a duplicate the consumer absorbs).
   */
  private async markDelivered(rows: StoredOutboxRow[]): Promise<void> {
    await this.db.outboxEvent.updateMany({
      where: { position: { in: rows.map((row) => row.position) }, status: 'PENDING' },
      data: {
        status: 'DELIVERED',
        deliveredAt: new Date(this.settings.clock.now()),
        leaseOwner: null,
        leaseExpiresAt: null,
      },
    });
  }

  /** Counts a failed attempt; returns whether the row is now PARKED. Only while this instance holds the lease. */
  private async recordFailure(row: StoredOutboxRow, error: unknown, options: { park: boolean }): Promise<boolean> {
    const { maxAttempts, retryBackoff, random, clock, deliverTimeoutMs, logger } = this.settings;
    const attempts = row.attempts + 1;
    const park = options.park || attempts >= maxAttempts;
    const lastError = describeError(error, deliverTimeoutMs);
    const data: OutboxUpdate = { attempts, lastError, leaseOwner: null, leaseExpiresAt: null };
    if (park) data.status = 'PARKED';
    else data.nextAttemptAt = new Date(clock.now() + retryDelayMs(attempts, retryBackoff, random));
    await this.db.outboxEvent.updateMany({
      where: { position: { in: [row.position] }, leaseOwner: this.owner, status: 'PENDING' },
      data,
    });
    const context = {
      owner: this.owner,
      eventId: row.eventId,
      type: row.type,
      aggregate: aggregateKey(row),
      aggregateVersion: row.aggregateVersion,
      attempts,
      lastError,
    };
    if (park) logger?.error(context, 'outbox event parked: its aggregate waits until it is re-driven');
    else logger?.warn({ ...context, nextAttemptAt: data.nextAttemptAt }, 'outbox event delivery failed; will retry');
    return park;
  }

  private async release(rows: StoredOutboxRow[], pass: RelayPass): Promise<void> {
    await releaseRows(this.db, this.owner, rows);
    pass.released += rows.length;
  }
}
