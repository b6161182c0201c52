import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { requestIdHeader } from '../../src/api/request-id';
import { blockedCustomerId, paymentTokens, soldOutSku } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import { orderWorkflowId } from '../../src/temporal/names';
import { orderIdFor } from '../../src/temporal/order-ids';
import { requestIdAttribute } from '../../src/temporal/search-attributes';
import { finalStatuses, orderFailureTypes, type OrderSagaState } from '../../src/workflows/definitions';
import { approvalThresholdCents, startStack, type Stack } from '../support/stack';
import { orderRequest } from '../support/sample-orders';

/**
 * POST /orders answers once the saga has accepted or rejected the order
 * (update-with-start), and a cancel once it has been carried out: against the
 * real stack, with the rows each service keeps checked after every answer.
 */

const earlyCustomerId = 'cus_early';

function orderBody({
  sku = 'SKU-MUG',
  quantity = 2,
  customerId = earlyCustomerId,
  token = paymentTokens.approved,
}: { sku?: string; quantity?: number; customerId?: string; token?: string } = {}) {
  return orderRequest({ customerId, items: [{ sku, quantity }], token });
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

interface Created {
  orderId: string;
  workflowId: string;
  links: { self: string };
  state: OrderSagaState;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  state?: OrderSagaState;
}

const replayed = (answer: Answer) => answer.headers.get('idempotent-replayed') === 'true';

describe('early return of POST /orders and answered cancellations', () => {
  let stack: Stack;
  /** The same system behind a second API that waits only 1 s before answering 202. */
  let impatientUrl: string;
  let impatientServer: Server;

  before(async () => {
    stack = await startStack('sqlite');
    const app = createApp({
      client: stack.temporal.client,
      logger: pino({ level: 'silent' }),
      approval: { thresholdCents: approvalThresholdCents, timeout: '24h' },
      readinessChecks: [],
      answerWaitMs: 1_000,
    });
    impatientServer = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    impatientUrl = `http://127.0.0.1:${(impatientServer.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => impatientServer?.close(resolve));
    await stack?.stop();
  });

  async function call(
    path: string,
    { method = 'POST', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: unknown },
    baseUrl = stack.baseUrl,
  ): Promise<Answer> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  const place = (key: string, body: unknown, headers: Record<string, string> = {}, baseUrl?: string) =>
    call('/orders', { headers: { 'idempotency-key': key, ...headers }, body }, baseUrl);

  async function waitUntil(orderId: string, done: (state: OrderSagaState) => boolean): Promise<OrderSagaState> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { status, body } = await call(`/orders/${orderId}`, { method: 'GET' });
      assert.equal(status, 200);
      const state = body as unknown as OrderSagaState;
      if (done(state)) return state;
      if (Date.now() > deadline) assert.fail(`order ${orderId} stayed ${state.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const final = (state: OrderSagaState) => finalStatuses.includes(state.status);

  async function runStatus(orderId: string): Promise<string> {
    return (await stack.temporal.client.workflow.getHandle(orderWorkflowId(orderId)).describe()).status.name;
  }

  async function rowsOf(orderId: string) {
    const [order, reservations, payments, shipments] = await Promise.all([
      stack.db.orders.order.findUnique({ where: { id: orderId } }),
      stack.db.inventory.reservation.findMany({ where: { orderId } }),
      stack.db.payments.payment.findMany({ where: { orderId } }),
      stack.db.shipping.shipment.findMany({ where: { orderId } }),
    ]);
    return { order, reservations, payments, shipments };
  }

  /**
   * Keeps a transaction open on the inventory database through the workers'
   * own client, until release(). On SQLite a client runs one transaction at a
   * time (src/db/adapters.ts), so reserve-stock waits its turn: a step that is
   * slow for a while, without blocking the process.
   */
  async function holdInventory(): Promise<{ release(): Promise<void> }> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const transaction = stack.db.inventory.$transaction(
      async (tx) => {
        await tx.product.count();
        holding();
        await released;
      },
      { timeout: 30_000 },
    );
    await Promise.race([held, transaction]);
    return {
      async release() {
        release();
        await transaction;
      },
    };
  }

  test('201 with the accepted state; the saga goes on to confirm; a repeat gets the same 201', async () => {
    const key = `early-${randomUUID()}`;
    const orderId = orderIdFor(earlyCustomerId, key);
    const placed = await place(key, orderBody());
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.headers.get('location'), `/orders/${orderId}`);
    assert.equal(replayed(placed), false);
    const created = placed.body as unknown as Created;
    assert.equal(created.orderId, orderId);
    assert.equal(created.workflowId, orderWorkflowId(orderId));
    assert.deepEqual(created.links, { self: `/orders/${orderId}` });
    // Accepted means exactly: the order row exists and the stock is reserved; payment has not started.
    assert.equal(created.state.status, 'running');
    assert.deepEqual(created.state.completedSteps, ['create-order', 'reserve-stock']);
    assert.equal(created.state.totalCents, 2_400);
    assert.equal(created.state.paymentId, null);
    const rows = await rowsOf(orderId);
    assert.ok(rows.order, 'the order row exists when the 201 is sent');
    assert.equal(rows.reservations.length, 1, 'and so does its reservation');

    const confirmed = await waitUntil(orderId, final);
    assert.equal(confirmed.status, 'confirmed');
    assert.equal((await rowsOf(orderId)).order?.status, 'CONFIRMED');

    const repeat = await place(key, orderBody());
    assert.equal(repeat.status, 201);
    assert.equal(replayed(repeat), true);
    assert.deepEqual(repeat.body, placed.body, 'the same answer as the first time, not the state of now');
  });

  test('over the approval threshold: 201 with the order awaiting approval', async () => {
    const key = `early-${randomUUID()}`;
    const placed = await place(key, orderBody({ sku: 'SKU-LAPTOP', quantity: 1 }));
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const { state } = placed.body as unknown as Created;
    assert.equal(state.status, 'awaiting-approval');
    assert.equal(state.currentStep, 'await-approval');
    assert.ok(state.totalCents! > approvalThresholdCents);
  });

  test('out of stock: 422 with the reason once the order row was compensated; nothing remains', async () => {
    const key = `early-${randomUUID()}`;
    const orderId = orderIdFor(earlyCustomerId, key);
    const refused = await place(key, orderBody({ sku: soldOutSku, quantity: 1 }));
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = refused.body as unknown as Problem;
    assert.equal(problem.type, '/problems/order-rejected');
    assert.match(problem.detail, new RegExp(`${rejectionTypes.outOfStock} at reserve-stock`));
    assert.equal(problem.state?.status, 'failed');
    assert.equal(problem.state?.failure?.type, rejectionTypes.outOfStock);
    assert.deepEqual(
      problem.state?.compensations.map(({ compensation, status }) => [compensation, status]),
      [['cancel-order', 'completed']],
    );
    // No half-made saga: the run is closed, the order row cancelled, no stock held, nothing charged.
    assert.equal(await runStatus(orderId), 'FAILED');
    const rows = await rowsOf(orderId);
    assert.equal(rows.order?.status, 'CANCELLED');
    assert.deepEqual(rows.reservations, []);
    assert.deepEqual(rows.payments, []);

    const repeat = await place(key, orderBody({ sku: soldOutSku, quantity: 1 }));
    assert.equal(repeat.status, 422);
    assert.equal(replayed(repeat), true);
    assert.deepEqual((repeat.body as unknown as Problem).state, problem.state);
    assert.equal((repeat.body as unknown as Problem).detail, problem.detail);
  });

  test('a blocked customer: 422 and no order row at all', async () => {
    const key = `early-${randomUUID()}`;
    const refused = await place(key, orderBody({ customerId: blockedCustomerId }));
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    const problem = refused.body as unknown as Problem;
    assert.equal(problem.state?.failure?.type, rejectionTypes.customerBlocked);
    assert.deepEqual(problem.state?.compensations, [], 'a refused first step leaves nothing to undo');
    assert.equal((await rowsOf(orderIdFor(blockedCustomerId, key))).order, null);
  });

  test('six identical requests at once: one run, one charge, the same 201 for all, one of them first', async () => {
    const key = `early-${randomUUID()}`;
    const orderId = orderIdFor(earlyCustomerId, key);
    const answers = await Promise.all(Array.from({ length: 6 }, () => place(key, orderBody())));
    assert.deepEqual(
      answers.map(({ status }) => status),
      Array.from({ length: 6 }, () => 201),
    );
    assert.equal(answers.filter((answer) => !replayed(answer)).length, 1, 'exactly one request placed the order');
    for (const answer of answers) assert.deepEqual(answer.body, answers[0]!.body);
    await waitUntil(orderId, final);
    const runs = await stack.temporal.client.workflow.count(`WorkflowId = '${orderWorkflowId(orderId)}'`);
    assert.equal(runs.count, 1);
    assert.equal((await rowsOf(orderId)).payments.length, 1);
  });

  test('the same key with another body: 422 while the order runs and after it finished', async () => {
    const key = `early-${randomUUID()}`;
    const orderId = orderIdFor(earlyCustomerId, key);
    assert.equal((await place(key, orderBody())).status, 201);
    const running = await place(key, orderBody({ quantity: 3 }));
    assert.equal(running.status, 422);
    assert.equal((running.body as unknown as Problem).type, '/problems/idempotency-key-reused');
    await waitUntil(orderId, final);
    const finished = await place(key, orderBody({ quantity: 3 }));
    assert.equal(finished.status, 422);
    assert.equal((finished.body as unknown as Problem).type, '/problems/idempotency-key-reused');
  });

  test('Prefer: respond-async answers 202 at once; the same request without it then gets the 201', async () => {
    const key = `early-${randomUUID()}`;
    const orderId = orderIdFor(earlyCustomerId, key);
    const asynchronous = await place(key, orderBody(), { prefer: 'respond-async' });
    assert.equal(asynchronous.status, 202);
    assert.equal(asynchronous.headers.get('preference-applied'), 'respond-async');
    assert.deepEqual(asynchronous.body, {
      orderId,
      workflowId: orderWorkflowId(orderId),
      links: { self: `/orders/${orderId}` },
    });
    const waited = await place(key, orderBody());
    assert.equal(waited.status, 201);
    assert.equal(replayed(waited), true, 'the asynchronous request placed the order');
    assert.deepEqual((waited.body as unknown as Created).state.completedSteps, ['create-order', 'reserve-stock']);
  });

  test('an acceptance slower than the wait answers 202; once accepted, a repeat gets the 201', async () => {
    const key = `early-${randomUUID()}`;
    const orderId = orderIdFor(earlyCustomerId, key);
    const lock = await holdInventory();
    let released = false;
    try {
      const started = performance.now();
      const pending = await place(key, orderBody(), {}, impatientUrl);
      const waitedMs = performance.now() - started;
      assert.equal(pending.status, 202, JSON.stringify(pending.body));
      assert.equal(pending.headers.get('preference-applied'), null, 'not asked for: the wait ran out');
      assert.equal(replayed(pending), false);
      assert.equal(pending.headers.get('location'), `/orders/${orderId}`);
      assert.ok(waitedMs >= 1_000, `answered after the 1 s wait, not before (${Math.round(waitedMs)} ms)`);
      const repeat = await place(key, orderBody(), {}, impatientUrl);
      assert.equal(repeat.status, 202);
      assert.equal(replayed(repeat), true);
      await lock.release();
      released = true;
      await waitUntil(orderId, (state) => state.completedSteps.includes('reserve-stock'));
      const accepted = await place(key, orderBody(), {}, impatientUrl);
      assert.equal(accepted.status, 201);
      assert.equal(replayed(accepted), true);
    } finally {
      if (!released) await lock.release();
    }
    assert.equal((await waitUntil(orderId, final)).status, 'confirmed');
  });

  test('cancel answers 200 once the order is cancelled and compensated, then 409 with the final state', async () => {
    const key = `early-${randomUUID()}`;
    const orderId = orderIdFor(earlyCustomerId, key);
    assert.equal((await place(key, orderBody({ sku: 'SKU-LAPTOP', quantity: 1 }))).status, 201);
    const cancelled = await call(`/orders/${orderId}/cancel`, { body: { reason: 'Changed my mind' } });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const state = cancelled.body as unknown as OrderSagaState;
    assert.equal(state.status, 'cancelled');
    assert.equal(state.cancellationReason, 'Changed my mind');
    assert.deepEqual(
      state.compensations.map(({ compensation, status }) => [compensation, status]),
      [
        ['release-stock', 'completed'],
        ['cancel-order', 'completed'],
      ],
    );
    const rows = await rowsOf(orderId);
    assert.equal(rows.order?.status, 'CANCELLED');
    assert.deepEqual(
      rows.reservations.map(({ status }) => status),
      ['RELEASED'],
    );

    const again = await call(`/orders/${orderId}/cancel`, { body: { reason: 'Twice' } });
    assert.equal(again.status, 409);
    const problem = again.body as unknown as Problem;
    assert.match(problem.detail, /is finished \(cancelled\)/);
    assert.deepEqual(problem.state, state, 'the order as it ended');
  });

  test('a cancel that cannot finish within the wait answers 202 with the state so far', async () => {
    const key = `early-${randomUUID()}`;
    const orderId = orderIdFor(earlyCustomerId, key);
    const lock = await holdInventory();
    let released = false;
    try {
      assert.equal((await place(key, orderBody(), { prefer: 'respond-async' }, impatientUrl)).status, 202);
      await waitUntil(orderId, (state) => state.currentStep === 'reserve-stock');
      const cancel = await call(`/orders/${orderId}/cancel`, { body: { reason: 'Too slow' } }, impatientUrl);
      assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
      const state = cancel.body as unknown as OrderSagaState;
      assert.equal(state.cancellationReason, 'Too slow');
      assert.ok(!final(state), `still under way, not ${state.status}`);
      await lock.release();
      released = true;
    } finally {
      if (!released) await lock.release();
    }
    const ended = await waitUntil(orderId, final);
    assert.equal(ended.status, 'cancelled');
    assert.equal(ended.failure?.type, orderFailureTypes.cancelled);
    assert.equal((await rowsOf(orderId)).order?.status, 'CANCELLED');
  });

  test("the placing request's X-Request-Id finds the run in Temporal's visibility (RequestId)", async () => {
    const requestId = `trace-${randomUUID()}`;
    const key = `early-${randomUUID()}`;
    const placed = await place(key, orderBody(), { [requestIdHeader]: requestId });
    assert.equal(placed.status, 201);
    const query = `${requestIdAttribute.name} = '${requestId}'`;
    const deadline = Date.now() + 10_000;
    const found: string[] = [];
    while (found.length === 0 && Date.now() < deadline) {
      for await (const run of stack.temporal.client.workflow.list({ query })) found.push(run.workflowId);
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(found, [orderWorkflowId(orderIdFor(earlyCustomerId, key))]);
  });
});
