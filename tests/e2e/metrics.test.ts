import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { paymentTokens, undeliverablePostalCode } from '../../src/domain/failure-triggers';
import { apiMetrics, sagaSeries, scrapeMeasureTimeoutMs, workerMetrics } from '../../src/metrics/definitions';
import { runtimeMetricsExporter } from '../../src/metrics/runtime-exporter';
import { serviceNames } from '../../src/temporal/names';
import { finalStatuses, type OrderStatus } from '../../src/workflows/definitions';
import { installWorkerRuntime } from '../../src/workers/runtime';
import { startStack, type Stack } from '../support/stack';
import { testLogger } from '../support/quiet-logger';

/**
 * The metrics a Prometheus would scrape from the real stack: the API's
 * `GET /metrics` and each worker's status page, after orders that confirm,
 * fail and wait for an operator. The saga's counters come from the workflow
 * through the Temporal runtime's exporter, so the runtime is installed here
 * with one, as src/workers/main.ts does, before the stack starts.
 */
installWorkerRuntime({ logger: testLogger('temporal', 'error'), metrics: await runtimeMetricsExporter() });

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format 0.0.4, the subset both prom-client and Core write (no escaped quotes in our labels). */
function parseExposition(text: string): { samples: Sample[]; families: string[] } {
  const samples: Sample[] = [];
  const families: string[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) \S+$/.exec(line);
    if (type) families.push(type[1]!);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key = '', value = ''] of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[key] = value;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { samples, families };
}

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const { samples, families } = parseExposition(text);
  // Merged expositions (a worker's own and its runtime's) must not repeat a family: Prometheus rejects the scrape.
  assert.deepEqual(
    families.filter((family, index) => families.indexOf(family) !== index),
    [],
    'no metric family twice',
  );
  return samples;
}

/** The samples of `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = find(samples, name, labels);
  assert.ok(found.length <= 1, `one series ${name} ${JSON.stringify(labels)}: ${JSON.stringify(found)}`);
  return found[0]?.value;
}

const order = (token: string, postalCode = '12345') => ({
  customerId: 'cus_metrics',
  items: [{ sku: 'SKU-MUG', quantity: 1 }],
  payment: { token },
  shippingAddress: { recipient: 'Ada', line1: '1 Loop St', city: 'Springfield', postalCode, country: 'US' },
});

describe('metrics: what Prometheus scrapes from the API and the workers', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack('sqlite', { workerStatusPages: true });
  });
  after(async () => {
    await stack?.stop();
  });

  async function place(body: ReturnType<typeof order>): Promise<string> {
    const response = await fetch(`${stack.baseUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { orderId: string };
    // 202 when the acceptance takes longer than the API waits (a busy machine): the order goes on all the same.
    assert.ok([201, 202].includes(response.status), JSON.stringify(answer));
    return answer.orderId;
  }

  async function waitFor(orderId: string, statuses: readonly OrderStatus[]): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const response = await fetch(`${stack.baseUrl}/orders/${orderId}`);
      const { status } = (await response.json()) as { status: OrderStatus };
      if (statuses.includes(status)) return;
      assert.ok(Date.now() < deadline, `order ${orderId} is still ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Scrapes until `check` holds (visibility and the relays follow within moments), by default at most 30 s. */
  async function scrapeUntil(
    url: string,
    check: (samples: Sample[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<Sample[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const samples = await scrape(url);
      if (check(samples)) return samples;
      assert.ok(Date.now() < deadline, `${url} never showed what was expected`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  const statusPage = (service: (typeof serviceNames)[number]) => {
    const url = stack.workerStatus?.[service].metricsUrl;
    assert.ok(url, `the ${service} worker serves metrics`);
    return url;
  };

  test('orders by outcome, compensations by step and outcome, needs-attention, HTTP latency, lag, breakers', async () => {
    const apiMetricsUrl = `${stack.baseUrl}/metrics`;
    const { needsAttention, httpDuration, projectionLag, outboxEvents } = apiMetrics;

    const [confirmed, declined, stuck] = await Promise.all([
      place(order(paymentTokens.approved)),
      place(order(paymentTokens.declined)),
      place(order(paymentTokens.refundRejected, undeliverablePostalCode)),
    ]);
    await Promise.all([
      waitFor(confirmed, ['confirmed']),
      waitFor(declined, ['failed']),
      waitFor(stuck, ['needs-attention']),
    ]);

    // The refund waits for an operator: the API counts it from Temporal's visibility.
    await scrapeUntil(apiMetricsUrl, (samples) => valueOf(samples, needsAttention.name) === 1);
    const resolved = await fetch(`${stack.baseUrl}/orders/${stuck}/compensation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'mark-resolved', note: 'refunded by bank transfer' }),
    });
    assert.equal(resolved.status, 202, await resolved.text());
    await waitFor(stuck, finalStatuses);

    const api = await scrapeUntil(
      apiMetricsUrl,
      (samples) => valueOf(samples, needsAttention.name) === 0 && valueOf(samples, projectionLag.name) === 0,
    );
    // Three placements, labelled by the route's pattern; reads by theirs, never by the raw URL.
    const durationCount = `${httpDuration.name}_count`;
    const placements = find(api, durationCount, { method: 'POST', route: '/orders' });
    assert.deepEqual(
      placements.filter(({ labels }) => !['201', '202'].includes(labels.status ?? '')),
      [],
      'placements answered 201 or 202',
    );
    assert.equal(
      placements.reduce((sum, { value }) => sum + value, 0),
      3,
    );
    const placedWithin = find(api, `${httpDuration.name}_bucket`, { method: 'POST', route: '/orders', le: '+Inf' });
    assert.equal(
      placedWithin.reduce((sum, { value }) => sum + value, 0),
      3,
    );
    assert.ok((valueOf(api, durationCount, { method: 'GET', route: '/orders/:orderId', status: '200' }) ?? 0) >= 3);
    assert.deepEqual(
      find(api, durationCount).filter(({ labels }) => labels.route?.includes('ord_')),
      [],
      'no order id in a route label',
    );
    for (const service of serviceNames) {
      assert.equal(valueOf(api, outboxEvents.name, { service, status: 'pending' }), 0);
      assert.equal(valueOf(api, outboxEvents.name, { service, status: 'parked' }), 0);
    }
    // An unknown path is one series, whatever the path.
    for (const path of ['/nope', '/nope/again']) await (await fetch(`${stack.baseUrl}${path}`)).text();
    const after404 = await scrape(apiMetricsUrl);
    assert.equal(valueOf(after404, durationCount, { method: 'GET', route: 'unmatched', status: '404' }), 2);
    assert.ok(find(after404, 'process_cpu_user_seconds_total').length === 0, 'the stack passes no process registry');

    // The saga's counters, from the workflow through the orders worker's runtime.
    const orders = await scrapeUntil(
      statusPage('orders'),
      (samples) => find(samples, sagaSeries.outcomes).reduce((sum, { value }) => sum + value, 0) === 3,
    );
    const outcome = (value: string) => valueOf(orders, sagaSeries.outcomes, { outcome: value });
    assert.deepEqual(
      { confirmed: outcome('confirmed'), failed: outcome('failed'), cancelled: outcome('cancelled') },
      { confirmed: 1, failed: 2, cancelled: undefined },
    );
    const compensation = (step: string, name: string, result: string) =>
      valueOf(orders, sagaSeries.compensations, { step, compensation: name, outcome: result });
    assert.deepEqual(
      {
        releaseStock: compensation('reserve-stock', 'release-stock', 'completed'),
        cancelOrder: compensation('create-order', 'cancel-order', 'completed'),
        refundFailed: compensation('charge-payment', 'refund-payment', 'failed'),
        refundResolved: compensation('charge-payment', 'refund-payment', 'resolved-manually'),
        refundCompleted: compensation('charge-payment', 'refund-payment', 'completed'),
      },
      { releaseStock: 2, cancelOrder: 2, refundFailed: 1, refundResolved: 1, refundCompleted: undefined },
    );
    // The SDK's own series come along: workflows completed and failed, activity latencies by task queue.
    assert.ok(find(orders, 'temporal_workflow_completed_total').some(({ value }) => value >= 1));
    assert.ok(find(orders, 'temporal_workflow_failed_total').some(({ value }) => value >= 2));
    assert.ok(
      find(orders, 'temporal_activity_execution_latency_seconds_count', { task_queue: 'order-saga.payments' }).length >
        0,
    );
    assert.equal(valueOf(orders, workerMetrics.runtimeUp.name), 1);
    assert.ok(find(orders, 'process_resident_memory_bytes').length === 1, "the process's own metrics");

    // The partners' breakers, closed after a healthy run; the carrier quoted the confirmed order's parcel.
    const payments = await scrape(statusPage('payments'));
    assert.equal(valueOf(payments, workerMetrics.breakerState.name, { partner: 'gateway' }), 0);
    assert.equal(valueOf(payments, workerMetrics.breakerState.name, { partner: 'carrier' }), undefined);
    const shipping = await scrape(statusPage('shipping'));
    assert.equal(valueOf(shipping, workerMetrics.breakerState.name, { partner: 'carrier' }), 0);
    assert.ok((valueOf(shipping, workerMetrics.carrierRates.name, { source: 'carrier-quote' }) ?? 0) >= 1);
    assert.equal(valueOf(shipping, workerMetrics.carrierRates.name, { source: 'flat-rate' }), 0);
  });

  test('an order waiting out a gateway outage is counted at its step, and no longer once it goes on', async () => {
    const apiMetricsUrl = `${stack.baseUrl}/metrics`;
    const waiting = (samples: Sample[]) =>
      valueOf(samples, apiMetrics.waitingOrders.name, { step: 'charge-payment' }) ?? -1;
    await stack.gateway.setFaults({ down: true });
    let orderId: string;
    try {
      orderId = await place(order(paymentTokens.approved));
      // The first round of retries (about 15 s of backoff) ends without an answer: the order says it waits.
      await scrapeUntil(apiMetricsUrl, (samples) => waiting(samples) === 1, 60_000);
      const orders = await scrapeUntil(statusPage('orders'), (samples) =>
        find(samples, sagaSeries.stepWaits, { step: 'charge-payment' }).some(({ value }) => value >= 1),
      );
      assert.ok(find(orders, sagaSeries.stepWaits, { step: 'charge-payment' }).length > 0);
    } finally {
      await stack.gateway.setFaults({});
    }
    await waitFor(orderId, ['confirmed']);
    const after = await scrapeUntil(apiMetricsUrl, (samples) => waiting(samples) === 0);
    for (const step of ['create-order', 'reserve-stock', 'create-shipment', 'confirm-order']) {
      assert.equal(valueOf(after, apiMetrics.waitingOrders.name, { step }), 0, step);
    }
  });

  test('a breaker that opens shows as 2 at the next scrape', async () => {
    await stack.gateway.setFaults({ down: true });
    try {
      // Straight to the client: the breaker opens after its configured failures in a row, whoever calls.
      for (let attempt = 0; attempt < 10 && stack.gatewayClient.status().breaker !== 'open'; attempt++) {
        await stack.gatewayClient.chargesOfOrder('ord_000000000000000000000000').catch(() => undefined);
      }
      assert.equal(stack.gatewayClient.status().breaker, 'open');
      const payments = await scrape(statusPage('payments'));
      assert.equal(valueOf(payments, workerMetrics.breakerState.name, { partner: 'gateway' }), 2);
    } finally {
      await stack.gateway.setFaults({});
    }
  });
});

describe('a figure that cannot be measured', () => {
  test('is left out of the scrape after its timeout and counted, and the rest of the scrape answers', async () => {
    // Temporal's visibility never answers (a hung frontend): the scrape still must.
    const hung = {
      withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
      workflow: { count: () => new Promise<never>(() => undefined) },
    } as unknown as Client;
    const app = createApp({
      client: hung,
      logger: pino({ level: 'silent' }),
      approval: { thresholdCents: 100_000, timeout: '24h' },
      readinessChecks: [],
    });
    await request(app).get('/health/live').expect(200);
    const started = Date.now();
    const response = await request(app).get('/metrics').expect(200);
    assert.ok(Date.now() - started < scrapeMeasureTimeoutMs + 1_000, 'bounded by the measurement timeout');
    const { samples } = parseExposition(response.text);
    assert.deepEqual(find(samples, apiMetrics.needsAttention.name), [], 'no false 0');
    assert.equal(
      valueOf(samples, apiMetrics.measureFailures.name, { metric: apiMetrics.needsAttention.name }),
      1,
      response.text,
    );
    assert.equal(
      valueOf(samples, `${apiMetrics.httpDuration.name}_count`, { method: 'GET', route: '/health/live' }),
      1,
    );
  });
});
