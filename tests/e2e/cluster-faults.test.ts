import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import proto from '@temporalio/proto';
import { closeServiceDatabases, openServiceDatabases, type ServiceDatabases } from '../../src/db';
import { provisionDatabases, type ProvisionedDatabases } from '../../tooling/db/provision';
import { paymentTokens, soldOutSku, undeliverablePostalCode } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import { createGatewayClient, defaultGatewayClientOptions } from '../../src/partners/gateway-client';
import { placeOrderUntilAnswered, waitForFinalStates } from '../../tooling/reliability/chaos';
import { checkInvariants, type InvariantReport } from '../../tooling/reliability/invariants';
import {
  launchSystemProcesses,
  runEncryption,
  startTemporalUnderFault,
  type SystemProcesses,
  type TemporalUnderFault,
} from '../../tooling/reliability/system-processes';
import { orderWorkflowId, serviceNames } from '../../src/temporal/names';
import type { CompensationName, OrderSagaState, OrderStatus } from '../../src/workflows/definitions';
import { clusterTestSkip } from '../support/cluster-skip';

/**
 * The core scenarios on the real cluster (tooling/cluster, PostgreSQL), with the system as it is deployed: two
 * processes of each service worker, the partners and the API as processes. While orders are in flight, one replica
 * of each service worker and the cluster's history service are killed with SIGKILL, then started again. Every order
 * must end as its scenario says, with its compensations in order, its rows in each service, and the books balanced.
 *
 * The bound this test holds the system to: a history restart delays orders, never fails them. Every order must be
 * final within {@link recoveryBoundMs} of history being back (the saga's retry rounds make workers wait for
 * Temporal, and activity attempts lost with the killed processes time out after 10 s and run again elsewhere).
 */

const { EventType } = proto.temporal.api.enums.v1;
const postgresUrl = process.env.TEST_POSTGRES_URL;
const skip = clusterTestSkip(postgresUrl);

/** How long after history is back every order may take to be final. */
const recoveryBoundMs = 60_000;
/** How long the killed processes stay down: long enough for orders to meet the outage. */
const outageMs = 3_000;
/** Fast-path orders placed before the kills; the rest are placed during and after them. */
const placedBeforeKills = 8;
/** Clients placing the fast-path orders at once. */
const placingClients = 3;

type ScenarioName = 'happy-path' | 'out-of-stock' | 'payment-declined' | 'undeliverable' | 'approved' | 'cancelled';

interface Scenario {
  count: number;
  body(index: number): object;
  /** Laptops cost more than the approval threshold: the order waits for an operator's decision. */
  decision?: 'approve' | 'cancel';
  status: OrderStatus;
  failureType: string | null;
  compensations: CompensationName[];
  /** The row statuses each service holds for the order. */
  rows: { order: string; reservations: string[]; payments: string[]; shipments: string[] };
}

const address = {
  recipient: 'Ada Lovelace',
  line1: '1 Fault Lane',
  city: 'Loopback',
  postalCode: '12345',
  country: 'US',
};
interface OrderVariant {
  items?: { sku: string; quantity: number }[];
  token?: string;
  postalCode?: string;
}
const body = (
  index: number,
  {
    items = [{ sku: index % 2 ? 'SKU-MUG' : 'SKU-TEE', quantity: 1 }],
    token = paymentTokens.approved,
    postalCode = '12345',
  }: OrderVariant = {},
) => ({
  customerId: `cus_faults_${index % 5}`,
  items,
  payment: { token },
  shippingAddress: { ...address, postalCode },
});
const laptop = [{ sku: 'SKU-LAPTOP', quantity: 1 }];

const confirmedRows = {
  order: 'CONFIRMED',
  reservations: ['COMMITTED'],
  payments: ['CHARGED'],
  shipments: ['CREATED'],
};
const scenarios: Record<ScenarioName, Scenario> = {
  'happy-path': {
    count: 10,
    body: (index) => body(index),
    status: 'confirmed',
    failureType: null,
    compensations: [],
    rows: confirmedRows,
  },
  'out-of-stock': {
    count: 3,
    body: (index) =>
      body(index, {
        items: [
          { sku: 'SKU-MUG', quantity: 1 },
          { sku: soldOutSku, quantity: 1 },
        ],
      }),
    status: 'failed',
    failureType: rejectionTypes.outOfStock,
    compensations: ['cancel-order'],
    rows: { order: 'CANCELLED', reservations: [], payments: [], shipments: [] },
  },
  'payment-declined': {
    count: 3,
    body: (index) => body(index, { token: paymentTokens.declined }),
    status: 'failed',
    failureType: rejectionTypes.paymentDeclined,
    compensations: ['release-stock', 'cancel-order'],
    rows: { order: 'CANCELLED', reservations: ['RELEASED'], payments: ['DECLINED'], shipments: [] },
  },
  undeliverable: {
    count: 3,
    body: (index) => body(index, { postalCode: undeliverablePostalCode }),
    status: 'failed',
    failureType: rejectionTypes.addressUndeliverable,
    compensations: ['refund-payment', 'release-stock', 'cancel-order'],
    rows: { order: 'CANCELLED', reservations: ['RELEASED'], payments: ['REFUNDED'], shipments: [] },
  },
  approved: {
    count: 3,
    body: (index) => body(index, { items: laptop }),
    decision: 'approve',
    status: 'confirmed',
    failureType: null,
    compensations: [],
    rows: confirmedRows,
  },
  cancelled: {
    count: 3,
    body: (index) => body(index, { items: laptop }),
    decision: 'cancel',
    status: 'cancelled',
    failureType: 'OrderCancelled',
    compensations: ['release-stock', 'cancel-order'],
    rows: { order: 'CANCELLED', reservations: ['RELEASED'], payments: [], shipments: [] },
  },
};

interface PlacedOrder {
  orderId: string;
  scenario: ScenarioName;
}

interface FaultEvent {
  what: string;
  at: number;
}

interface RunResult {
  orders: PlacedOrder[];
  states: Map<string, OrderSagaState>;
  /** When each order's run started and closed (from Temporal), ms since epoch. */
  times: Map<string, { start: number; close: number | undefined }>;
  faults: FaultEvent[];
  killedAt: number;
  historyBackAt: number;
  invariants: InvariantReport;
  /** POST /orders sent again by a client (same Idempotency-Key) because the API answered 5xx or not in time. */
  placementRetries: number;
  startedAt: number;
  systemUpAt: number;
  endedAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the core scenarios on the cluster, through SIGKILLs of worker replicas and of history', { skip }, () => {
  let temporal: TemporalUnderFault | undefined;
  let system: SystemProcesses | undefined;
  let databases: ProvisionedDatabases | undefined;
  let db: ServiceDatabases | undefined;
  let run: RunResult;
  /** The processes' last output lines, printed when something fails. */
  const output: string[] = [];
  const say = (line: string) => console.log(`  ${line}`);

  before(
    async () => {
      const startedAt = Date.now();
      const encryption = runEncryption('cluster-faults');
      temporal = await startTemporalUnderFault({
        kind: 'cluster',
        dataConverter: encryption.dataConverter,
        postgresUrl,
        clusterName: 'temporal_faults_test',
        log: () => undefined,
      });
      const cluster = temporal.cluster!;
      databases = await provisionDatabases('postgres', postgresUrl);
      system = await launchSystemProcesses({
        temporal,
        databaseUrls: databases.urls,
        replicas: 2,
        payloadEncryptionKeys: encryption.keys,
        onLine: (line) => {
          output.push(line);
          if (output.length > 200) output.shift();
        },
      });
      const systemUpAt = Date.now();
      say(`system up in ${seconds(systemUpAt - startedAt)}: cluster ${temporal.address}, 2 replicas of each worker`);
      const { apiUrl } = system;
      const runId = Date.now().toString(36);
      let placementRetries = 0;
      const place = async (scenario: ScenarioName, index: number): Promise<PlacedOrder> => ({
        scenario,
        orderId: await placeOrderUntilAnswered(
          apiUrl,
          `faults-${runId}-${scenario}-${index}`,
          scenarios[scenario].body(index),
          () => {
            placementRetries += 1;
          },
        ),
      });

      // The orders that wait for a decision first: they are in flight through every fault.
      const waiting = await Promise.all(
        (['approved', 'cancelled'] as const).flatMap((scenario) =>
          Array.from({ length: scenarios[scenario].count }, (_, index) => place(scenario, index)),
        ),
      );
      // The other scenarios interleaved, so each meets the faults.
      const fastPath = (['happy-path', 'out-of-stock', 'payment-declined', 'undeliverable'] as const).flatMap(
        (scenario) => Array.from({ length: scenarios[scenario].count }, (_, index) => ({ scenario, index })),
      );
      fastPath.sort((a, b) => a.index - b.index);
      const placed: PlacedOrder[] = [];
      let next = 0;
      const placing = Promise.all(
        Array.from({ length: placingClients }, async () => {
          while (next < fastPath.length) {
            const { scenario, index } = fastPath[next++]!;
            placed.push(await place(scenario, index));
          }
        }),
      );

      // The faults: once some orders are placed, while they and the waiting ones are in flight.
      let placingFailed: Error | undefined;
      placing.catch((error: unknown) => {
        placingFailed = error instanceof Error ? error : new Error(String(error));
      });
      while (placed.length < placedBeforeKills) {
        if (placingFailed) throw placingFailed;
        await sleep(20);
      }
      const faults: FaultEvent[] = [];
      const note = (what: string) => {
        faults.push({ what, at: Date.now() });
        say(`+${seconds(Date.now() - startedAt)} ${what}`);
      };
      const killedAt = Date.now();
      await Promise.all([
        ...serviceNames.map(async (service) => {
          const pid = system!.workerPid(service, 0);
          await system!.killWorker(service, 0);
          note(`SIGKILL worker:${service} replica 1 (pid ${pid})`);
        }),
        (async () => {
          const pid = cluster.pid('history');
          await cluster.kill('history');
          note(`SIGKILL history (pid ${pid})`);
        })(),
      ]);
      await sleep(outageMs);
      await cluster.restart('history');
      const historyBackAt = Date.now();
      note(`history restarted (pid ${cluster.pid('history')})`);
      // The decisions go through the restarted history while the killed replicas are still down.
      const deciding = Promise.all(
        waiting.map(async (order) => {
          const failed = await decide(apiUrl, order);
          for (const answer of failed)
            say(`  ${order.scenario} ${order.orderId}: a decision attempt failed: ${answer}`);
        }),
      );
      await Promise.all(
        serviceNames.map(async (service) => {
          await system!.restartWorker(service, 0);
          note(`worker:${service} replica 1 restarted (pid ${system!.workerPid(service, 0)})`);
        }),
      );
      await Promise.all([placing, deciding]);
      const orders = [...waiting, ...placed];
      say(
        `+${seconds(Date.now() - startedAt)} all ${orders.length} orders placed and decided; waiting for each to end`,
      );

      const states = await waitForFinalStates(
        apiUrl,
        orders.map((order) => order.orderId),
        historyBackAt + recoveryBoundMs,
      );
      const client = temporal.client();
      const times = new Map<string, { start: number; close: number | undefined }>();
      for (const { orderId } of orders) {
        const description = await client.workflow.getHandle(orderWorkflowId(orderId)).describe();
        times.set(orderId, { start: description.startTime.getTime(), close: description.closeTime?.getTime() });
      }
      db = openServiceDatabases(databases.urls);
      const invariants = await checkInvariants({
        db,
        client,
        gateway: createGatewayClient({ ...defaultGatewayClientOptions, baseUrl: system.gateway.url }),
      });
      run = {
        orders,
        states,
        times,
        faults,
        killedAt,
        historyBackAt,
        invariants,
        placementRetries,
        startedAt,
        systemUpAt,
        endedAt: Date.now(),
      };
      report(run, say);
    },
    { timeout: 300_000 },
  );

  after(async () => {
    if (db) await closeServiceDatabases(db);
    await system?.stop();
    await temporal?.stop();
    await databases?.drop();
  });

  /**
   * An order that ended otherwise than its scenario says: its events in short, and its whole history written to a
   * file, to hand to whoever investigates.
   */
  async function explain(orderId: string): Promise<string> {
    const workflowId = orderWorkflowId(orderId);
    const history = await temporal!.client().workflow.getHandle(workflowId).fetchHistory();
    const file = path.join(tmpdir(), `cluster-faults-${workflowId}.history.json`);
    writeFileSync(file, JSON.stringify(history, null, 2));
    const events = (history.events ?? []).map((event) => {
      const failure =
        event.activityTaskFailedEventAttributes?.failure?.message ??
        event.activityTaskTimedOutEventAttributes?.failure?.message ??
        event.workflowExecutionFailedEventAttributes?.failure?.message ??
        event.workflowTaskFailedEventAttributes?.failure?.message;
      const { seconds: eventSeconds, nanos } = event.eventTime ?? {};
      const time = eventSeconds ? new Date(Number(eventSeconds) * 1000 + (nanos ?? 0) / 1e6).toISOString() : '';
      const type = EventType[event.eventType ?? 0] ?? String(event.eventType);
      return `  ${String(event.eventId)} ${time} ${type}${failure ? `: ${failure}` : ''}`;
    });
    return [
      `${workflowId} (whole history: ${file}):`,
      ...events,
      "the history service's last log lines:",
      ...readFileSync(path.join(temporal!.cluster!.root, 'logs', 'history.log'), 'utf8')
        .split('\n')
        .slice(-30),
      "the system's processes' last lines:",
      ...output.slice(-40),
    ].join('\n');
  }

  test('every order ends as its scenario says, within the bound after history is back', async () => {
    const unfinished = run.orders.filter(({ orderId }) => !run.states.has(orderId));
    assert.deepEqual(
      unfinished,
      [],
      `not final ${seconds(recoveryBoundMs)} after history was back:\n${(
        await Promise.all(unfinished.map(({ orderId }) => explain(orderId)))
      ).join('\n')}`,
    );
    for (const { orderId, scenario } of run.orders) {
      const state = run.states.get(orderId)!;
      const expected = scenarios[scenario];
      const outcome = { status: state.status, failureType: state.failure?.type ?? null };
      if (outcome.status !== expected.status || outcome.failureType !== expected.failureType) {
        assert.fail(`${scenario} order ${orderId} ended ${JSON.stringify(outcome)}:\n${await explain(orderId)}`);
      }
    }
    assert.equal(
      run.orders.length,
      Object.values(scenarios).reduce((sum, { count }) => sum + count, 0),
    );
  });

  test('each order ran its compensations, and only those, in order, each completed once', () => {
    for (const { orderId, scenario } of run.orders) {
      const state = run.states.get(orderId)!;
      assert.deepEqual(
        state.compensations.map((record) => record.compensation),
        scenarios[scenario].compensations,
        `${scenario} order ${orderId}`,
      );
      for (const record of state.compensations) {
        assert.deepEqual(
          [record.status, record.runs],
          ['completed', 1],
          `${scenario} ${orderId} ${record.compensation}`,
        );
      }
    }
  });

  test('each service holds the rows of each order as its scenario says', async () => {
    const orderIds = run.orders.map(({ orderId }) => orderId);
    const [orders, reservations, payments, shipments] = await Promise.all([
      db!.orders.order.findMany({ where: { id: { in: orderIds } } }),
      db!.inventory.reservation.findMany({ where: { orderId: { in: orderIds } } }),
      db!.payments.payment.findMany({ where: { orderId: { in: orderIds } } }),
      db!.shipping.shipment.findMany({ where: { orderId: { in: orderIds } } }),
    ]);
    const of = <R extends { orderId: string; status: string }>(rows: R[], orderId: string) =>
      rows.filter((row) => row.orderId === orderId).map((row) => row.status);
    for (const { orderId, scenario } of run.orders) {
      const order = orders.find((row) => row.id === orderId);
      const state = run.states.get(orderId)!;
      assert.deepEqual(
        {
          order: order?.status,
          reservations: of(reservations, orderId),
          payments: of(payments, orderId),
          shipments: of(shipments, orderId),
        },
        scenarios[scenario].rows,
        `${scenario} order ${orderId}`,
      );
      if (scenarios[scenario].status === 'confirmed') {
        const payment = payments.find((row) => row.orderId === orderId);
        assert.equal(payment?.amountCents, state.totalCents, `${orderId} charged its total`);
        assert.equal(order?.paymentId, state.paymentId);
        assert.equal(order?.shipmentId, state.shipmentId);
      }
    }
  });

  test('the invariant checker passes: stock and money across the services, the gateway agrees', () => {
    assert.deepEqual(run.invariants.violations, []);
    assert.ok(run.invariants.ok);
  });

  test('the faults met orders in flight, and history was killed and came back', () => {
    const inFlight = run.orders.filter(({ orderId }) => {
      const { start, close } = run.times.get(orderId)!;
      return start < run.killedAt && (close === undefined || close > run.killedAt);
    });
    // The orders awaiting a decision at least; the report prints how many fast-path ones too.
    assert.ok(inFlight.length >= scenarios.approved.count + scenarios.cancelled.count, `${inFlight.length} in flight`);
    assert.equal(run.faults.filter(({ what }) => what.startsWith('SIGKILL')).length, serviceNames.length + 1);
    assert.ok(
      run.orders.some(({ orderId }) => (run.times.get(orderId)!.close ?? 0) > run.historyBackAt),
      'orders completed after history came back',
    );
  });
});

/**
 * Approves or cancels a waiting order through the API, retrying while Temporal recovers; returns the answers of the
 * attempts that failed. A retry whose earlier attempt went through (its answer lost to a timeout or a 5xx) is
 * refused with 409: the decision is taken, which the final state checks.
 */
async function decide(apiUrl: string, { orderId, scenario }: PlacedOrder): Promise<string[]> {
  const decision = scenarios[scenario].decision;
  if (!decision) return [];
  const [route, payload] =
    decision === 'approve'
      ? [`/orders/${orderId}/approve`, { decidedBy: 'ops@example.com' }]
      : [`/orders/${orderId}/cancel`, { reason: 'Ordered by mistake' }];
  const failed: string[] = [];
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch(`${apiUrl}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(15_000),
      });
      if (response.status === 200 || response.status === 202) return failed;
      const problem = (await response.json().catch(() => ({}))) as { detail?: string };
      const answer = `${response.status} ${problem.detail ?? ''}`.trim();
      if (response.status === 409 && failed.length > 0) return [...failed, answer];
      if (response.status < 500) throw new Error(`POST ${route} answered ${answer}`);
      failed.push(answer);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('POST ')) throw error;
      failed.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
    if (attempt >= 60) throw new Error(`POST ${route} failed 60 times: ${failed.join('; ')}`);
    await sleep(500);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** What the run did and its figures. */
function report(run: RunResult, say: (line: string) => void): void {
  const byScenario: Record<string, Record<string, number>> = {};
  for (const { orderId, scenario } of run.orders) {
    const status = run.states.get(orderId)?.status ?? 'unfinished';
    byScenario[scenario] ??= {};
    byScenario[scenario][status] = (byScenario[scenario][status] ?? 0) + 1;
  }
  const closes = run.orders.map(({ orderId }) => run.times.get(orderId)!);
  const inFlightFast = run.orders.filter(({ orderId, scenario }) => {
    const { start, close } = run.times.get(orderId)!;
    return !scenarios[scenario].decision && start < run.killedAt && (close === undefined || close > run.killedAt);
  });
  const closedAfterBack = closes
    .map(({ close }) => close)
    .filter((close): close is number => close !== undefined && close > run.historyBackAt);
  const lastInFlightClose = Math.max(
    ...inFlightFast.map(({ orderId }) => run.times.get(orderId)!.close ?? Number.POSITIVE_INFINITY),
  );
  say('orders per scenario (final status: count):');
  for (const [scenario, statuses] of Object.entries(byScenario)) say(`  ${scenario}: ${JSON.stringify(statuses)}`);
  say('faults (since the test began):');
  for (const { what, at } of run.faults) say(`  +${seconds(at - run.startedAt)} ${new Date(at).toISOString()} ${what}`);
  say(`fast-path orders in flight at the kills: ${inFlightFast.length}`);
  say(`POST /orders sent again (same Idempotency-Key) after a 5xx or no answer: ${run.placementRetries}`);
  say(
    `first order completed ${closedAfterBack.length ? seconds(Math.min(...closedAfterBack) - run.historyBackAt) : 'never'} after history restarted`,
  );
  say(
    `the fast-path orders in flight at the kills all ended ${
      inFlightFast.length ? seconds(lastInFlightClose - run.historyBackAt) : '(none)'
    } after history restarted`,
  );
  say(
    `every order ended ${seconds(Math.max(...closes.map(({ close }) => close ?? Infinity)) - run.historyBackAt)} after history restarted`,
  );
  say(`invariants: ${run.invariants.ok ? 'ok' : `${run.invariants.violations.length} violation(s)`}`);
  say(`system start ${seconds(run.systemUpAt - run.startedAt)}, whole run ${seconds(run.endedAt - run.startedAt)}`);
}
