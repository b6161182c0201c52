import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ulid } from 'ulid';
import { createServiceDb, type OrdersDb } from '../../src/db';
import {
  appendEvent,
  defaultRelaySettings,
  listParked,
  OutboxRelay,
  outboxStatus,
  redrive,
  retryDelayMs,
  wakeOnOutboxCommit,
  type DeliverEvents,
  type DomainEvent,
  type OutboxRelayOptions,
  type OutboxTable,
  type StoredOutboxRow,
} from '../../src/events';
import { orderWorkflowId } from '../../src/temporal/names';
import { providers, skipReason, migratedServiceDatabase } from '../support/service-databases';

/**
 * The outbox relay against the orders service's real database (SQLite, and
 * PostgreSQL when TEST_POSTGRES_URL is set): at least once, in order per
 * aggregate, retries with backoff, parking and re-driving, and two instances
 * sharing one table. Time that matters to the relay (leases, retry times) is
 * a test clock moved by hand; the loop's own polling runs on real timers.
 *
 *   node --import tsx --test tests/integration/outbox-relay.test.ts
 */

/** Time the relay reads from: wall clock at the start, moved only by the test. */
class TestClock {
  private current = Date.now();
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** What a consumer was offered, call by call, and which calls it accepted (resolved). */
class RecordingConsumer {
  readonly calls: { owner: string; events: DomainEvent[]; accepted: boolean }[] = [];

  deliverAs(owner: string, before?: (events: DomainEvent[]) => Promise<void>): DeliverEvents {
    return async (events) => {
      const call = { owner, events, accepted: false };
      this.calls.push(call);
      await before?.(events);
      call.accepted = true;
    };
  }

  /** The events of the accepted calls, in the order the calls were made. */
  get accepted(): DomainEvent[] {
    return this.calls.filter((call) => call.accepted).flatMap((call) => call.events);
  }

  /** Versions per aggregate as accepted. */
  versionsByAggregate(): Map<string, number[]> {
    const byAggregate = new Map<string, number[]>();
    for (const event of this.accepted) {
      byAggregate.set(event.aggregateId, [...(byAggregate.get(event.aggregateId) ?? []), event.aggregateVersion]);
    }
    return byAggregate;
  }
}

/**
 * A projection as the read model's must be: an event applies only as its
 * aggregate's next version, so a duplicate (or a replay) changes nothing.
 */
class VersionProjection {
  readonly applied = new Map<string, number>();
  duplicates = 0;

  apply(events: DomainEvent[]): void {
    for (const event of events) {
      const current = this.applied.get(event.aggregateId) ?? 0;
      if (event.aggregateVersion <= current) this.duplicates += 1;
      else if (event.aggregateVersion === current + 1) this.applied.set(event.aggregateId, event.aggregateVersion);
      else throw new Error(`${event.aggregateId} v${event.aggregateVersion} arrived before v${current + 1}`);
    }
  }
}

const quietRetries = { initialMs: 1_000, maxMs: 60_000, jitter: 0 };

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`outbox relay on ${provider}`, { skip, timeout: 120_000 }, () => {
    let db: OrdersDb;
    let url: string;
    let close: () => Promise<void>;
    let sequence = 0;

    before(async () => {
      const databases = await migratedServiceDatabase(provider, 'orders');
      ({ db, close } = databases);
      url = databases.urls.orders;
    });

    after(async () => {
      await close?.();
    });

    // Each test starts from an empty outbox: a relay takes every due row in the table.
    beforeEach(async () => {
      await db.outboxEvent.deleteMany({});
    });

    const newOrderId = () => `ord_relay_${provider}_${++sequence}`;

    /** `count` events of one order (its aggregate), each in its own transaction as the services write them. */
    async function appendOrderEvents(orderId: string, count: number, writer: OrdersDb = db): Promise<void> {
      for (let index = 0; index < count; index += 1) {
        await writer.$transaction((tx) =>
          appendEvent(tx, {
            type: 'OrderCancelled',
            aggregateId: orderId,
            correlation: { orderId, workflowId: orderWorkflowId(orderId) },
            payload: { reason: `step ${index + 1}` },
          }),
        );
      }
    }

    /** Round-robin over the orders, so that their events' positions interleave. */
    async function appendInterleaved(orderIds: string[], perOrder: number): Promise<void> {
      for (let round = 0; round < perOrder; round += 1) {
        for (const orderId of orderIds) await appendOrderEvents(orderId, 1);
      }
    }

    const rowsOf = (aggregateId: string): Promise<StoredOutboxRow[]> =>
      db.outboxEvent.findMany({ where: { aggregateId }, orderBy: { aggregateVersion: 'asc' } });

    const relayWith = (
      options: Partial<OutboxRelayOptions> & Pick<OutboxRelayOptions, 'deliver'>,
      table: OutboxTable = db,
    ) => new OutboxRelay(table, { service: 'orders', retryBackoff: quietRetries, random: () => 0.5, ...options });

    /** How long after the call the order's events were all DELIVERED; fails after `withinMs`. */
    async function deliveredWithin(orderId: string, withinMs: number): Promise<number> {
      const startedAt = Date.now();
      for (;;) {
        const rows = await rowsOf(orderId);
        const elapsed = Date.now() - startedAt;
        if (rows.length > 0 && rows.every((row) => row.status === 'DELIVERED')) return elapsed;
        assert.ok(
          elapsed < withinMs,
          `${orderId} delivered within ${withinMs} ms (statuses: ${rows.map((row) => row.status).join(', ')})`,
        );
        await delay(25);
      }
    }

    /** Passes until one claims nothing; at most `maxPasses`. */
    async function drain(relay: OutboxRelay, maxPasses = 50): Promise<number> {
      for (let passes = 1; passes <= maxPasses; passes += 1) {
        if ((await relay.relayOnce()).claimed === 0) return passes;
      }
      assert.fail(`the outbox was not drained in ${maxPasses} passes`);
    }

    test('delivers every event once, in order per aggregate, across batches', async () => {
      const orders = [newOrderId(), newOrderId(), newOrderId()];
      await appendInterleaved(orders, 5);
      const consumer = new RecordingConsumer();
      const relay = relayWith({ deliver: consumer.deliverAs('relay'), batchSize: 4 });

      await drain(relay);

      assert.ok(consumer.calls.length >= 4, `15 events in batches of 4: ${consumer.calls.length} calls`);
      assert.ok(
        consumer.calls.every((call) => call.events.length <= 4),
        'no batch is larger than batchSize',
      );
      assert.deepEqual(
        Object.fromEntries(consumer.versionsByAggregate()),
        Object.fromEntries(orders.map((orderId) => [orderId, [1, 2, 3, 4, 5]])),
      );
      for (const orderId of orders) {
        for (const row of await rowsOf(orderId)) {
          assert.deepEqual(
            [row.status, row.attempts, row.leaseOwner, row.leaseExpiresAt],
            ['DELIVERED', 0, null, null],
          );
          assert.ok(row.deliveredAt instanceof Date);
        }
      }
      assert.deepEqual((await outboxStatus(db)).counts, { PENDING: 0, DELIVERED: 15, PARKED: 0 });
    });

    test('a relay that dies between delivering and marking loses nothing: the next one redelivers after the lease', async () => {
      const orders = [newOrderId(), newOrderId()];
      await appendInterleaved(orders, 3);
      const clock = new TestClock();
      const consumer = new RecordingConsumer();
      const projection = new VersionProjection();
      const deliverToProjection = (owner: string) =>
        consumer.deliverAs(owner, async (events) => projection.apply(events));

      // The first instance's process dies right after the consumer took the batch: marking never happens.
      const dyingTable: OutboxTable = {
        outboxEvent: {
          findMany: (args) => db.outboxEvent.findMany(args),
          findFirst: (args) => db.outboxEvent.findFirst(args),
          count: (args) => db.outboxEvent.count(args),
          updateMany: (args) =>
            args.data.status === 'DELIVERED'
              ? Promise.reject(new Error('relay process killed'))
              : db.outboxEvent.updateMany(args),
        },
      };
      const dying = relayWith({ deliver: deliverToProjection('dying'), clock, leaseMs: 30_000 }, dyingTable);
      await assert.rejects(dying.relayOnce(), /relay process killed/);
      assert.equal(consumer.accepted.length, 6, 'the consumer got every event');
      for (const orderId of orders) {
        for (const row of await rowsOf(orderId)) {
          assert.deepEqual([row.status, row.leaseOwner], ['PENDING', dying.owner], 'still leased by the dead relay');
        }
      }

      const successor = relayWith({ deliver: deliverToProjection('successor'), clock, leaseMs: 30_000 });
      assert.equal((await successor.relayOnce()).claimed, 0, 'nothing is taken over while the lease lasts');
      clock.advance(30_000);
      await drain(successor);

      const redelivered = consumer.calls.filter((call) => call.owner === 'successor').flatMap((call) => call.events);
      assert.deepEqual(
        redelivered.map((event) => event.id).sort(),
        consumer.calls[0]!.events.map((event) => event.id).sort(),
        'every event came again: the duplicates',
      );
      assert.equal(projection.duplicates, 6, 'the projection absorbed each duplicate');
      assert.deepEqual(Object.fromEntries(projection.applied), Object.fromEntries(orders.map((id) => [id, 3])));
      for (const orderId of orders) {
        assert.deepEqual(
          (await rowsOf(orderId)).map((row) => [row.status, row.leaseOwner]),
          [
            ['DELIVERED', null],
            ['DELIVERED', null],
            ['DELIVERED', null],
          ],
        );
      }
    });

    test('a failing event is retried with growing delays, then parked; its aggregate waits, the others flow; redrive releases them', async () => {
      const failing = newOrderId();
      const healthy = newOrderId();
      await appendInterleaved([failing, healthy], 3);
      const [poison] = await rowsOf(failing);
      const clock = new TestClock();
      const consumer = new RecordingConsumer();
      let consumerFixed = false;
      const relay = relayWith({
        clock,
        maxAttempts: 3,
        deliver: consumer.deliverAs('relay', async (events) => {
          if (!consumerFixed && events.some((event) => event.id === poison!.eventId)) {
            throw new Error('projection rejected the event');
          }
        }),
      });

      // The batch fails; one at a time, the failing order's first event fails and the other order goes through.
      const first = await relay.relayOnce();
      assert.deepEqual(first, { claimed: 6, delivered: 3, retrying: 1, parked: 0, released: 2 });
      assert.deepEqual(consumer.versionsByAggregate().get(healthy), [1, 2, 3]);
      const afterFirst = await rowsOf(failing);
      assert.deepEqual(
        afterFirst.map((row) => [row.status, row.attempts, row.leaseOwner]),
        [
          ['PENDING', 1, null],
          ['PENDING', 0, null],
          ['PENDING', 0, null],
        ],
      );
      assert.equal(afterFirst[0]!.nextAttemptAt.getTime(), clock.now() + 1_000);
      assert.equal(afterFirst[0]!.lastError, 'Error: projection rejected the event');

      // Not due yet, and its later events are held back behind it.
      const callsBefore = consumer.calls.length;
      assert.equal((await relay.relayOnce()).claimed, 0);
      assert.equal(consumer.calls.length, callsBefore, 'no delivery while the failing event waits');

      // Due again: the order's three events are claimed together; the first fails, the two behind it go back.
      clock.advance(1_000);
      assert.deepEqual(await relay.relayOnce(), { claimed: 3, delivered: 0, retrying: 1, parked: 0, released: 2 });
      const second = (await rowsOf(failing))[0]!;
      assert.equal(second.attempts, 2);
      assert.equal(second.nextAttemptAt.getTime(), clock.now() + 2_000, 'the delay doubled');

      clock.advance(2_000);
      assert.deepEqual(await relay.relayOnce(), { claimed: 3, delivered: 0, retrying: 0, parked: 1, released: 2 });
      assert.deepEqual(
        (await rowsOf(failing)).map((row) => [row.status, row.attempts, row.lastError]),
        [
          ['PARKED', 3, 'Error: projection rejected the event'],
          ['PENDING', 0, null],
          ['PENDING', 0, null],
        ],
      );

      // Parked: however long we wait, its order's later events stay behind it; a new order's events flow.
      clock.advance(24 * 60 * 60_000);
      const newcomer = newOrderId();
      await appendOrderEvents(newcomer, 2);
      await drain(relay);
      assert.deepEqual(consumer.versionsByAggregate().get(newcomer), [1, 2]);
      assert.equal(
        consumer.versionsByAggregate().get(failing),
        undefined,
        'the parked event holds back the later ones',
      );
      const parked = await listParked(db);
      assert.deepEqual(
        parked.map((event) => [event.eventId, event.aggregateId, event.attempts, event.heldBack, event.lastError]),
        [[poison!.eventId, failing, 3, 2, 'Error: projection rejected the event']],
      );
      assert.deepEqual((await outboxStatus(db)).counts, { PENDING: 2, DELIVERED: 5, PARKED: 1 });

      consumerFixed = true;
      const unknownId = ulid();
      assert.deepEqual(await redrive(db, [poison!.eventId, unknownId], clock), {
        redriven: [poison!.eventId],
        notParked: [unknownId],
      });
      assert.deepEqual((await rowsOf(failing))[0]!.attempts, 0, 'attempts start again from 0 after a redrive');
      await drain(relay);
      assert.deepEqual(consumer.versionsByAggregate().get(failing), [1, 2, 3]);
      assert.deepEqual(
        (await rowsOf(failing)).map((row) => row.status),
        ['DELIVERED', 'DELIVERED', 'DELIVERED'],
      );
      assert.deepEqual(await listParked(db), []);
      assert.deepEqual(await redrive(db, 'all', clock), { redriven: [], notParked: [] });
    });

    test('an event this code cannot read is parked at once and holds back its aggregate', async () => {
      const unknownType = newOrderId();
      const badPayload = newOrderId();
      const healthy = newOrderId();
      const occurredAt = new Date();
      for (const [aggregateId, type, payload] of [
        [unknownType, 'OrderShipped', '{}'],
        [badPayload, 'OrderCancelled', '{"reason": 42}'],
      ] as const) {
        await db.outboxEvent.create({
          data: {
            eventId: ulid(),
            aggregateType: 'Order',
            aggregateId,
            aggregateVersion: 1,
            type,
            schemaVersion: 1,
            payload,
            orderId: aggregateId,
            workflowId: orderWorkflowId(aggregateId),
            occurredAt,
          },
        });
      }
      await appendOrderEvents(unknownType, 1);
      await appendOrderEvents(healthy, 1);
      const consumer = new RecordingConsumer();
      const relay = relayWith({ deliver: consumer.deliverAs('relay') });

      assert.deepEqual(await relay.relayOnce(), { claimed: 4, delivered: 1, retrying: 0, parked: 2, released: 1 });
      assert.deepEqual(
        consumer.calls.flatMap((call) => call.events.map((event) => event.aggregateId)),
        [healthy],
      );
      const [unknownFirst, unknownSecond] = await rowsOf(unknownType);
      assert.deepEqual([unknownFirst!.status, unknownFirst!.attempts], ['PARKED', 1], 'parked on the first attempt');
      assert.match(unknownFirst!.lastError ?? '', /UnreadableEvent: Unknown event type "OrderShipped"/);
      assert.deepEqual([unknownSecond!.status, unknownSecond!.leaseOwner], ['PENDING', null], 'held back');
      const [bad] = await rowsOf(badPayload);
      assert.equal(bad!.status, 'PARKED');
      assert.match(bad!.lastError ?? '', /UnreadableEvent: OrderCancelled v1: the payload does not match its schema/);
      assert.equal((await relay.relayOnce()).claimed, 0, 'nothing else to do');
    });

    test('a consumer that hangs is timed out and retried later', async () => {
      const orderId = newOrderId();
      await appendOrderEvents(orderId, 1);
      const clock = new TestClock();
      let signalled = false;
      const relay = relayWith({
        clock,
        deliverTimeoutMs: 100,
        // Hears the abort but never settles, like a call stuck on a dead connection.
        deliver: (_events, { signal }) => {
          signal.addEventListener('abort', () => (signalled = true));
          return new Promise<void>(() => undefined);
        },
      });
      assert.deepEqual(await relay.relayOnce(), { claimed: 1, delivered: 0, retrying: 1, parked: 0, released: 0 });
      const [row] = await rowsOf(orderId);
      assert.deepEqual(
        [row!.status, row!.attempts, row!.lastError],
        ['PENDING', 1, 'The consumer did not finish within 100 ms'],
      );
      assert.ok(signalled, 'the consumer was told to stop');
    });

    test('two relays on one database deliver every event, each aggregate in order and never concurrently', async () => {
      const orders = Array.from({ length: 12 }, () => newOrderId());
      const perOrder = 4;
      // On PostgreSQL each instance has its own client (its own pool), as two processes would. On SQLite the
      // instances share one: two clients on one file in one process would block each other (src/db/adapters.ts).
      const second = provider === 'postgres' ? createServiceDb('orders', url) : db;
      const consumer = new RecordingConsumer();
      const inFlight = new Set<string>();
      const overlaps: string[] = [];
      const slowly = async (events: DomainEvent[]) => {
        const aggregates = [...new Set(events.map((event) => event.aggregateId))];
        for (const aggregate of aggregates) {
          if (inFlight.has(aggregate)) overlaps.push(aggregate);
          inFlight.add(aggregate);
        }
        await delay(1 + Math.floor(Math.random() * 5));
        for (const aggregate of aggregates) inFlight.delete(aggregate);
      };
      const settings = { batchSize: 3, pollIntervalMs: 10 };
      const relays = [
        relayWith({ ...settings, owner: 'relay-a', deliver: consumer.deliverAs('relay-a', slowly) }),
        relayWith({ ...settings, owner: 'relay-b', deliver: consumer.deliverAs('relay-b', slowly) }, second),
      ];
      try {
        for (const relay of relays) relay.start();
        // Written while the relays run, as the services would.
        await appendInterleaved(orders, perOrder);
        const total = orders.length * perOrder;
        const deadline = Date.now() + 30_000;
        while ((await db.outboxEvent.count({ where: { status: 'DELIVERED' } })) < total) {
          assert.ok(Date.now() < deadline, 'every event delivered within 30 s');
          await delay(50);
        }
      } finally {
        await Promise.all(relays.map((relay) => relay.stop()));
        if (second !== db) await second.$disconnect();
      }

      assert.deepEqual(overlaps, [], 'no aggregate was delivered by two calls at once');
      const ids = consumer.accepted.map((event) => event.id);
      assert.equal(new Set(ids).size, ids.length, 'no duplicates: no lease expired');
      assert.deepEqual(
        Object.fromEntries(consumer.versionsByAggregate()),
        Object.fromEntries(orders.map((orderId) => [orderId, [1, 2, 3, 4]])),
      );
      const byOwner = (owner: string) => consumer.calls.filter((call) => call.owner === owner).length;
      assert.ok(
        byOwner('relay-a') > 0 && byOwner('relay-b') > 0,
        `both relays delivered (${byOwner('relay-a')}, ${byOwner('relay-b')})`,
      );
      assert.equal(await db.outboxEvent.count({ where: { leaseOwner: { not: null } } }), 0, 'no lease left behind');
    });

    test('a relay acting on a stale read takes neither rows leased since nor the later events of their aggregate', async () => {
      const orderId = newOrderId();
      await appendOrderEvents(orderId, 2);
      const consumer = new RecordingConsumer();
      const gate = () => {
        let open!: () => void;
        const opened = new Promise<void>((resolve) => (open = resolve));
        return { open, opened };
      };
      const staleReadDone = gate();
      const resumeStale = gate();
      const firstHolds = gate();
      const firstDelivering = gate();

      // relay-b reads both events as due, then stalls before leasing them.
      const stallingTable: OutboxTable = {
        outboxEvent: {
          findMany: (args) => db.outboxEvent.findMany(args),
          findFirst: (args) => db.outboxEvent.findFirst(args),
          count: (args) => db.outboxEvent.count(args),
          updateMany: async (args) => {
            if (args.data.leaseOwner === 'relay-b') {
              staleReadDone.open();
              await resumeStale.opened;
            }
            return db.outboxEvent.updateMany(args);
          },
        },
      };
      const stale = relayWith({ owner: 'relay-b', deliver: consumer.deliverAs('relay-b') }, stallingTable);
      // relay-a leases only the first event (batch of 1) and is still delivering it when relay-b resumes.
      const first = relayWith({
        owner: 'relay-a',
        batchSize: 1,
        deliver: consumer.deliverAs('relay-a', async () => {
          firstDelivering.open();
          await firstHolds.opened;
        }),
      });

      const staleRun = stale.relayOnce();
      await staleReadDone.opened;
      const firstRun = first.relayOnce();
      await firstDelivering.opened;
      resumeStale.open();
      assert.deepEqual(await staleRun, { claimed: 0, delivered: 0, retrying: 0, parked: 0, released: 0 });
      assert.deepEqual(
        (await rowsOf(orderId)).map((row) => [row.status, row.leaseOwner]),
        [
          ['PENDING', 'relay-a'],
          ['PENDING', null],
        ],
        'the second event went back: its first is not delivered yet',
      );
      firstHolds.open();
      assert.equal((await firstRun).delivered, 1);
      assert.equal((await stale.relayOnce()).delivered, 1);
      assert.deepEqual(
        consumer.calls.map((call) => [call.owner, call.events.map((event) => event.aggregateVersion)]),
        [
          ['relay-a', [1]],
          ['relay-b', [2]],
        ],
      );
    });

    test('only a transaction that wrote an event and committed wakes the relay', async () => {
      let wakes = 0;
      const services = wakeOnOutboxCommit(db, () => (wakes += 1));
      const orderId = newOrderId();

      await appendOrderEvents(orderId, 1, services);
      assert.equal(wakes, 1, 'a committed event wakes');
      await services.$transaction((tx) => tx.outboxEvent.count({ where: { aggregateId: orderId } }));
      assert.equal(wakes, 1, 'a transaction that wrote no event does not');
      await assert.rejects(
        services.$transaction(async (tx) => {
          await appendEvent(tx, {
            type: 'OrderCancelled',
            aggregateId: orderId,
            correlation: { orderId, workflowId: orderWorkflowId(orderId) },
            payload: { reason: 'rolled back' },
          });
          throw new Error('the step failed after writing its event');
        }),
        /the step failed/,
      );
      assert.equal(wakes, 1, 'a rolled-back event does not');
      assert.equal((await rowsOf(orderId)).length, 1);
      await appendOrderEvents(orderId, 1);
      assert.equal(wakes, 1, 'a write through another client does not');
    });

    test('a relay at rest polls less and less often, yet an event committed in this process is delivered at once', async () => {
      let polls = 0;
      const countingTable: OutboxTable = {
        outboxEvent: {
          // Each pass starts with one read of the due rows; an empty table ends the pass there.
          findMany: (args) => {
            if (args.where.status === 'PENDING') polls += 1;
            return db.outboxEvent.findMany(args);
          },
          findFirst: (args) => db.outboxEvent.findFirst(args),
          count: (args) => db.outboxEvent.count(args),
          updateMany: (args) => db.outboxEvent.updateMany(args),
        },
      };
      const consumer = new RecordingConsumer();
      const relay = relayWith(
        { deliver: consumer.deliverAs('relay'), pollIntervalMs: 100, idlePollMaxMs: 10_000 },
        countingTable,
      );
      const services = wakeOnOutboxCommit(db, () => relay.wake());
      const orderId = newOrderId();
      relay.start();
      try {
        const startedAt = Date.now();
        while (polls < 6) await delay(10);
        const idleMs = Date.now() - startedAt;
        // Idle polls at 0, 0.1, 0.3, 0.7, 1.5 and 3.1 s; a steady 100 ms interval makes six in 0.5 s.
        assert.ok(idleMs >= 3_000, `six polls at rest took ${idleMs} ms`);
        // Past the sixth poll's read: its next one is 3.2 s away, so only the wake delivers sooner.
        await delay(200);
        await appendOrderEvents(orderId, 1, services);
        await deliveredWithin(orderId, 1_500);
      } finally {
        await relay.stop();
      }
      assert.deepEqual(
        consumer.accepted.map((event) => event.aggregateId),
        [orderId],
      );
    });

    test('an event no wake announces (written by another client) is still delivered within idlePollMaxMs', async () => {
      // Not wrapped by wakeOnOutboxCommit, as another process's is not. On PostgreSQL its own client, as another
      // process would have; on SQLite the test's own (two clients on one file in one process block each other).
      const other = provider === 'postgres' ? createServiceDb('orders', url) : db;
      const consumer = new RecordingConsumer();
      const relay = relayWith({ deliver: consumer.deliverAs('relay'), pollIntervalMs: 100, idlePollMaxMs: 1_000 });
      const orderId = newOrderId();
      relay.start();
      try {
        // Backed off to its longest wait: 0.1, 0.2, 0.4, 0.8, then 1 s.
        await delay(2_500);
        await appendOrderEvents(orderId, 1, other);
        await deliveredWithin(orderId, 1_000 + 500);
      } finally {
        await relay.stop();
        if (other !== db) await other.$disconnect();
      }
      assert.deepEqual(
        consumer.accepted.map((event) => event.aggregateId),
        [orderId],
      );
    });

    test('stop() lets the batch in flight finish, then starts no other', async () => {
      const orderId = newOrderId();
      await appendOrderEvents(orderId, 2);
      const consumer = new RecordingConsumer();
      let releaseConsumer!: () => void;
      const consumerHolds = new Promise<void>((resolve) => (releaseConsumer = resolve));
      let consumerCalled!: () => void;
      const called = new Promise<void>((resolve) => (consumerCalled = resolve));
      const relay = relayWith({
        pollIntervalMs: 10,
        deliver: consumer.deliverAs('relay', async () => {
          consumerCalled();
          await consumerHolds;
        }),
      });
      relay.start();
      await called;
      let stopped = false;
      const stopping = relay.stop().then(() => (stopped = true));
      await delay(100);
      assert.equal(stopped, false, 'stop() waits for the batch in flight');
      releaseConsumer();
      await stopping;
      assert.deepEqual(
        (await rowsOf(orderId)).map((row) => row.status),
        ['DELIVERED', 'DELIVERED'],
      );

      await appendOrderEvents(orderId, 1);
      await delay(200);
      assert.equal(consumer.calls.length, 1, 'a stopped relay polls no more');
      assert.equal((await rowsOf(orderId))[2]?.status, 'PENDING');
    });
  });
}

test('retry delays double from 1 s to a 5 min cap, within ±20 % jitter', () => {
  const backoff = defaultRelaySettings.retryBackoff;
  const middle = (attempts: number) => retryDelayMs(attempts, backoff, () => 0.5);
  assert.deepEqual(
    [1, 2, 3, 4, 8, 9, 10, 20].map(middle),
    [1_000, 2_000, 4_000, 8_000, 128_000, 256_000, 300_000, 300_000],
  );
  assert.equal(
    retryDelayMs(1, backoff, () => 0),
    800,
  );
  assert.equal(
    retryDelayMs(10, backoff, () => 0.999_999),
    360_000,
  );
});
