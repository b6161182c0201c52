import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { hashApiKey } from '../../src/api/auth';
import { orderRequestFingerprint, recordedOrderCustomerIn } from '../../src/api/placement';
import { requestIdHeader } from '../../src/api/request-id';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { orderRequestSchema } from '../../src/domain/order';
import { orderWorkflowId, orderWorkflowTaskQueue } from '../../src/temporal/names';
import { legacyOrderIdFor, orderIdFor } from '../../src/temporal/order-ids';
import {
  finalStatuses,
  orderMemoFields,
  orderWorkflowType,
  type OrderSagaInput,
  type OrderSagaState,
} from '../../src/workflows/definitions';
import { approvalThresholdCents, startStack, type Stack } from '../support/stack';
import { orderRequest } from '../support/sample-orders';

/**
 * Idempotency-Key semantics and X-Request-Id, against the real stack: the
 * same key with the same body is answered the same way and starts one run and
 * one charge, also when the requests race and after the order finished; the
 * same key with another body is refused with 422 and starts nothing; every
 * answer carries a request id, which the run's memo and the log lines keep.
 */

const idemCustomerId = 'cus_idem';

function orderBody({
  sku = 'SKU-MUG',
  quantity = 2,
  token = paymentTokens.approved,
}: { sku?: string; quantity?: number; token?: string } = {}) {
  return orderRequest({ customerId: idemCustomerId, items: [{ sku, quantity }], token });
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
}

describe('Idempotency-Key and X-Request-Id against the real stack', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack('sqlite');
  });

  after(async () => {
    await stack?.stop();
  });

  async function call(
    path: string,
    { method = 'POST', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string } = {},
    baseUrl = stack.baseUrl,
  ): Promise<Answer> {
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
  }

  function postOrder(key: string, body: unknown, headers: Record<string, string> = {}, baseUrl?: string) {
    return call(
      '/orders',
      {
        // The asynchronous mode: its 202 is the answer repeated here (api-early-return.test.ts covers the 201).
        headers: { 'content-type': 'application/json', 'idempotency-key': key, prefer: 'respond-async', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      },
      baseUrl,
    );
  }

  function acceptedBody(key: string) {
    const orderId = orderIdFor(idemCustomerId, key);
    return { orderId, workflowId: orderWorkflowId(orderId), links: { self: `/orders/${orderId}` } };
  }

  function assertProblem(answer: Answer, status: number, title: string): Problem {
    const problem = answer.body as unknown as Problem;
    assert.equal(answer.status, status, JSON.stringify(problem));
    assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(problem.status, status);
    assert.equal(problem.title, title);
    assert.equal(typeof problem.detail, 'string');
    assert.equal(problem.requestId, answer.headers.get(requestIdHeader), 'the problem names the request id');
    return problem;
  }

  async function waitUntilFinal(orderId: string): Promise<OrderSagaState> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { status, body } = await call(`/orders/${orderId}`, { method: 'GET' });
      assert.equal(status, 200);
      const state = body as unknown as OrderSagaState;
      if (finalStatuses.includes(state.status)) return state;
      if (Date.now() > deadline) assert.fail(`order ${orderId} stayed ${state.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Runs of the order's workflow id in visibility, once the closed run shows there (it lags a little). */
  async function runsOf(orderId: string): Promise<number> {
    const query = `WorkflowId = '${orderWorkflowId(orderId)}' AND ExecutionStatus != 'Running'`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { count } = await stack.temporal.client.workflow.count(query);
      if (count > 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let runs = 0;
    for await (const _run of stack.temporal.client.workflow.list({
      query: `WorkflowId = '${orderWorkflowId(orderId)}'`,
    })) {
      runs += 1;
    }
    return runs;
  }

  async function memoOf(orderId: string): Promise<Record<string, unknown> | undefined> {
    return (await stack.temporal.client.workflow.getHandle(orderWorkflowId(orderId)).describe()).memo;
  }

  test('same key, same body: the same 202 while it runs, racing, and after it finished; one run, one charge', async () => {
    const key = `idem-${randomUUID()}`;
    const { orderId } = acceptedBody(key);
    const first = await postOrder(key, orderBody(), { [requestIdHeader]: 'trace-first-order' });
    assert.equal(first.status, 202);
    assert.deepEqual(first.body, acceptedBody(key));
    assert.equal(first.headers.get('location'), `/orders/${orderId}`);
    assert.equal(first.headers.get('idempotent-replayed'), null);

    // The same order spelled differently (key order, spaces, padded strings) is the same request.
    const respelled = `{ "shippingAddress": {"country":"GB","postalCode":" N1 9GU ","city":"London",
      "line1":"12 Analytical Row","recipient":"Ada Lovelace"}, "payment":{"token":"tok_visa"},
      "items":[{"quantity":2.0,"sku":"SKU-MUG"}], "customerId":"cus_idem" }`;
    const repeats = await Promise.all([
      postOrder(key, orderBody()),
      postOrder(key, respelled),
      ...Array.from({ length: 4 }, () => postOrder(key, orderBody())),
    ]);
    for (const repeat of repeats) {
      assert.equal(repeat.status, 202, JSON.stringify(repeat.body));
      assert.deepEqual(repeat.body, first.body);
      assert.equal(repeat.headers.get('location'), `/orders/${orderId}`);
      assert.equal(repeat.headers.get('idempotent-replayed'), 'true');
    }

    const state = await waitUntilFinal(orderId);
    assert.equal(state.status, 'confirmed');
    const afterwards = await postOrder(key, orderBody());
    assert.equal(afterwards.status, 202, 'a repeat after the run closed is answered, not refused');
    assert.deepEqual(afterwards.body, first.body);

    assert.equal(await runsOf(orderId), 1, 'one workflow run');
    const charges = await stack.gatewayClient.chargesOfOrder(orderId);
    assert.deepEqual(
      charges.map((charge) => [charge.status, charge.amountCents]),
      [['succeeded', 2_400]],
      'one charge at the gateway',
    );
    const memo = await memoOf(orderId);
    assert.equal(memo?.[orderMemoFields.requestId], 'trace-first-order', 'the first request id, kept on the run');
    assert.match(String(memo?.[orderMemoFields.requestFingerprint]), /^sha256:[0-9a-f]{64}$/);
  });

  test('truly concurrent first requests with one key and one body start one run', async () => {
    const key = `idem-${randomUUID()}`;
    const { orderId } = acceptedBody(key);
    const answers = await Promise.all(Array.from({ length: 6 }, () => postOrder(key, orderBody({ quantity: 1 }))));
    assert.deepEqual(
      answers.map((answer) => answer.status),
      Array.from({ length: 6 }, () => 202),
    );
    for (const answer of answers) assert.deepEqual(answer.body, acceptedBody(key));
    const started = answers.filter((answer) => answer.headers.get('idempotent-replayed') === null);
    assert.equal(started.length, 1, 'exactly one request started the run; the others were repeats');
    assert.equal((await memoOf(orderId))?.[orderMemoFields.requestId], started[0]!.headers.get(requestIdHeader));
    assert.equal((await waitUntilFinal(orderId)).status, 'confirmed');
    assert.equal(await runsOf(orderId), 1);
    assert.equal((await stack.gatewayClient.chargesOfOrder(orderId)).length, 1);
  });

  test('same key, another body: 422 problem, nothing started, the first order unchanged', async () => {
    const key = `idem-${randomUUID()}`;
    const { orderId } = acceptedBody(key);
    const first = await postOrder(key, orderBody({ token: paymentTokens.declined }));
    assert.equal(first.status, 202);
    const memoBefore = await memoOf(orderId);

    const other = await postOrder(key, orderBody({ token: paymentTokens.declined, quantity: 3 }), {
      [requestIdHeader]: 'trace-mismatch',
    });
    const problem = assertProblem(other, 422, 'Idempotency key reused');
    assert.equal(problem.type, '/problems/idempotency-key-reused');
    assert.equal(problem.instance, '/orders');
    assert.equal(problem.requestId, 'trace-mismatch');
    assert.match(problem.detail, /already used with another request body/);
    assert.match(problem.detail, new RegExp(orderId));
    assert.equal(other.headers.get('location'), null);

    const state = await waitUntilFinal(orderId);
    assert.equal(state.status, 'failed', 'the first order (a declined card) ran as sent');
    assert.equal(state.totalCents, 2_400, 'two mugs, as the first body said, not three');
    // A finished run still remembers its body: the same key with the other body is still refused,
    // and with the first body still answered.
    assertProblem(
      await postOrder(key, orderBody({ token: paymentTokens.declined, quantity: 3 })),
      422,
      'Idempotency key reused',
    );
    const repeat = await postOrder(key, orderBody({ token: paymentTokens.declined }));
    assert.equal(repeat.status, 202);
    assert.deepEqual(repeat.body, first.body);

    assert.equal(await runsOf(orderId), 1);
    assert.deepEqual(await memoOf(orderId), memoBefore, 'the run is the first request’s');
    assert.deepEqual(
      (await stack.gatewayClient.chargesOfOrder(orderId)).map((charge) => charge.status),
      ['declined'],
    );
  });

  test('one key, two different bodies at once: one wins with 202, the other gets 422', async () => {
    const key = `idem-${randomUUID()}`;
    const { orderId } = acceptedBody(key);
    const answers = await Promise.all([
      postOrder(key, orderBody({ sku: 'SKU-MUG' })),
      postOrder(key, orderBody({ sku: 'SKU-TEE', quantity: 1 })),
    ]);
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [202, 422]);
    const winner = answers.find((answer) => answer.status === 202)!;
    assertProblem(
      answers.find((answer) => answer.status === 422)!,
      422,
      'Idempotency key reused',
    );
    assert.equal((await memoOf(orderId))?.[orderMemoFields.requestId], winner.headers.get(requestIdHeader));
    const state = await waitUntilFinal(orderId);
    assert.equal(state.status, 'confirmed');
    const winnerIndex = answers.indexOf(winner);
    assert.equal(state.totalCents, winnerIndex === 0 ? 2_400 : 2_500, "the winner's order ran");
    assert.equal(await runsOf(orderId), 1);
    assert.equal((await stack.gatewayClient.chargesOfOrder(orderId)).length, 1);
  });

  test('X-Request-Id: echoed when sane, generated otherwise, on every kind of answer', async () => {
    const sent = { [requestIdHeader]: 'client-trace-7f3a' };

    const accepted = await postOrder(`idem-${randomUUID()}`, orderBody(), sent);
    assert.equal(accepted.status, 202);
    assert.equal(accepted.headers.get(requestIdHeader), 'client-trace-7f3a');

    const unknownRoute = await call('/nothing-here', { method: 'GET', headers: sent });
    assertProblem(unknownRoute, 404, 'Not found');
    assert.equal(unknownRoute.headers.get(requestIdHeader), 'client-trace-7f3a');

    const unknownOrder = await call(`/orders/${orderIdFor(idemCustomerId, randomUUID())}`, { method: 'GET' });
    assertProblem(unknownOrder, 404, 'Order not found');
    assert.match(unknownOrder.headers.get(requestIdHeader) ?? '', uuidPattern);

    const malformed = await postOrder('k', '{"customerId": ', sent);
    assertProblem(malformed, 400, 'Malformed JSON');
    assert.equal(malformed.headers.get(requestIdHeader), 'client-trace-7f3a');

    const invalid = await postOrder('k', { customerId: 7 });
    assertProblem(invalid, 400, 'Invalid request');
    assert.match(invalid.headers.get(requestIdHeader) ?? '', uuidPattern);

    const notJson = await call('/orders', {
      headers: { 'content-type': 'text/plain', 'idempotency-key': 'k', ...sent },
      body: 'hello',
    });
    assertProblem(notJson, 415, 'Unsupported media type');
    assert.equal(notJson.headers.get(requestIdHeader), 'client-trace-7f3a');

    const huge = await postOrder('k', { ...orderBody(), customerId: 'x'.repeat(100_000) });
    assertProblem(huge, 413, 'Body too large');
    assert.match(huge.headers.get(requestIdHeader) ?? '', uuidPattern);

    const health = await fetch(`${stack.baseUrl}/health/live`);
    assert.match(health.headers.get(requestIdHeader) ?? '', uuidPattern);

    // Not sane: replaced by a generated id, never refused.
    for (const insane of ['x'.repeat(129), 'has space', 'tab\there', '']) {
      const answer = await call('/nothing-here', { method: 'GET', headers: { [requestIdHeader]: insane } });
      assert.equal(answer.status, 404);
      assert.match(answer.headers.get(requestIdHeader) ?? '', uuidPattern, JSON.stringify(insane));
    }
    const longest = 'y'.repeat(128);
    const kept = await call('/nothing-here', { method: 'GET', headers: { [requestIdHeader]: longest } });
    assert.equal(kept.headers.get(requestIdHeader), longest);

    const [a, b] = await Promise.all([
      call('/nothing-here', { method: 'GET' }),
      call('/nothing-here', { method: 'GET' }),
    ]);
    assert.notEqual(a.headers.get(requestIdHeader), b.headers.get(requestIdHeader), 'one id per request');
  });

  test('X-Request-Id on a 5xx and in every log line of the request', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const unreachable = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' });
    const servers: Server[] = [];
    const listen = async (client: Client) => {
      const app = createApp({
        client,
        logger,
        readinessChecks: [],
        approval: { thresholdCents: approvalThresholdCents, timeout: '24h' },
      });
      const server: Server = await new Promise((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    try {
      const live = await listen(stack.temporal.client);
      const down = await listen(new Client({ connection: unreachable }));

      const key = `idem-${randomUUID()}`;
      const { orderId, workflowId } = acceptedBody(key);
      assert.equal((await postOrder(key, orderBody(), { [requestIdHeader]: 'trace-logs-1' }, live)).status, 202);
      const repeat = await postOrder(key, orderBody(), {}, live);
      const repeatId = repeat.headers.get(requestIdHeader)!;

      const failed = await postOrder(`idem-${randomUUID()}`, orderBody(), { [requestIdHeader]: 'trace-503' }, down);
      assertProblem(failed, 503, 'Service unavailable');
      assert.equal(failed.headers.get(requestIdHeader), 'trace-503');

      const linesOf = (requestId: string) =>
        lines
          .filter((line) => line.requestId === requestId)
          .map(({ msg, status, orderId, workflowId, outcome }) => ({
            msg,
            ...(status === undefined ? {} : { status }),
            ...(orderId === undefined ? {} : { orderId, workflowId, outcome }),
          }));
      assert.deepEqual(linesOf('trace-logs-1'), [
        { msg: 'order started', orderId, workflowId, outcome: 'started' },
        { msg: 'request', status: 202 },
      ]);
      assert.deepEqual(linesOf(repeatId), [
        { msg: 'order request repeated', orderId, workflowId, outcome: 'repeated' },
        { msg: 'request', status: 202 },
      ]);
      assert.deepEqual(linesOf('trace-503'), [{ msg: 'request failed' }, { msg: 'request', status: 503 }]);
      await waitUntilFinal(orderId);
    } finally {
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
      await unreachable.close();
    }
  });

  describe('keys scoped to their caller (API keys required)', () => {
    const apiKeys = { alice: 'alice-idem-secret', bob: 'bob-idem-secret' } as const;
    let keyedServer: Server;
    let keyedUrl: string;

    before(async () => {
      // The stack's Temporal and workers behind an API that asks for keys, as in production.
      const app = createApp({
        client: stack.temporal.client,
        logger: pino({ level: 'silent' }),
        readinessChecks: [],
        approval: { thresholdCents: approvalThresholdCents, timeout: '24h' },
        recordedOrderCustomer: recordedOrderCustomerIn(stack.db.orders),
        protection: {
          auth: {
            mode: 'required',
            keys: [
              { name: 'cus_alice', role: 'customer', sha256: hashApiKey(apiKeys.alice) },
              { name: 'cus_bob', role: 'customer', sha256: hashApiKey(apiKeys.bob) },
            ],
          },
          rateLimitPerMinute: Number.POSITIVE_INFINITY,
        },
      });
      keyedServer = await new Promise((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      keyedUrl = `http://127.0.0.1:${(keyedServer.address() as AddressInfo).port}`;
    });

    after(async () => {
      await new Promise((resolve) => keyedServer.close(resolve));
    });

    /** Early-return mode (201 once accepted), as the customer whose API key is sent. */
    const placeAs = (customer: keyof typeof apiKeys, key: string, body: unknown) =>
      call(
        '/orders',
        {
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
            authorization: `Bearer ${apiKeys[customer]}`,
          },
          body: JSON.stringify(body),
        },
        keyedUrl,
      );

    const bodyOf = (customerId: string, quantity = 1) => ({ ...orderBody({ quantity }), customerId });

    test('two customers, one key: two orders, each 201; neither answer names the other order', async () => {
      const key = `order-1-${randomUUID()}`;
      const alice = await placeAs('alice', key, bodyOf('cus_alice'));
      assert.equal(alice.status, 201, JSON.stringify(alice.body));
      const aliceOrder = String(alice.body.orderId);

      const bob = await placeAs('bob', key, bodyOf('cus_bob', 2));
      assert.equal(bob.status, 201, JSON.stringify(bob.body));
      const bobOrder = String(bob.body.orderId);
      assert.notEqual(bobOrder, aliceOrder, 'the same key names another order for another customer');
      assert.deepEqual([aliceOrder, bobOrder], [orderIdFor('cus_alice', key), orderIdFor('cus_bob', key)]);
      assert.equal(bob.headers.get('idempotent-replayed'), null, "bob's order is new, not a repeat of alice's");
      assert.ok(!JSON.stringify(bob.body).includes(aliceOrder), "bob's answer does not name alice's order");

      // Each customer's repeat is answered with their own order.
      const aliceAgain = await placeAs('alice', key, bodyOf('cus_alice'));
      assert.equal(aliceAgain.status, 201);
      assert.equal(aliceAgain.body.orderId, aliceOrder);
      assert.equal(aliceAgain.headers.get('idempotent-replayed'), 'true');
      const bobAgain = await placeAs('bob', key, bodyOf('cus_bob', 2));
      assert.equal(bobAgain.status, 201);
      assert.equal(bobAgain.body.orderId, bobOrder);
      assert.equal(bobAgain.headers.get('idempotent-replayed'), 'true');

      // Reused with another body, the key is refused naming the caller's own order only.
      const bobOther = await placeAs('bob', key, bodyOf('cus_bob', 3));
      const problem = assertProblem(bobOther, 422, 'Idempotency key reused');
      assert.match(problem.detail, new RegExp(bobOrder));
      assert.ok(!JSON.stringify(bobOther.body).includes(aliceOrder), "the refusal does not name alice's order");

      const rows = await stack.db.orders.order.findMany({
        where: { id: { in: [aliceOrder, bobOrder] } },
        select: { id: true, customerId: true, items: { select: { quantity: true } } },
        orderBy: { customerId: 'asc' },
      });
      assert.deepEqual(rows, [
        { id: aliceOrder, customerId: 'cus_alice', items: [{ quantity: 1 }] },
        { id: bobOrder, customerId: 'cus_bob', items: [{ quantity: 2 }] },
      ]);
      assert.equal((await waitUntilFinal(aliceOrder)).status, 'confirmed');
      assert.equal((await waitUntilFinal(bobOrder)).status, 'confirmed');
      assert.equal((await stack.gatewayClient.chargesOfOrder(aliceOrder)).length, 1);
      assert.equal((await stack.gatewayClient.chargesOfOrder(bobOrder)).length, 1);
    });

    test('the orders database not answering whether the key placed an order before: 503, nothing started', async () => {
      const app = createApp({
        client: stack.temporal.client,
        logger: pino({ level: 'silent' }),
        readinessChecks: [],
        approval: { thresholdCents: approvalThresholdCents, timeout: '24h' },
        recordedOrderCustomer: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
      });
      const server: Server = await new Promise((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      try {
        const key = `idem-${randomUUID()}`;
        const refused = await postOrder(
          key,
          orderBody(),
          {},
          `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        );
        const problem = assertProblem(refused, 503, 'Service unavailable');
        assert.match(problem.detail, /orders database/);
        const handle = stack.temporal.client.workflow.getHandle(orderWorkflowId(orderIdFor(idemCustomerId, key)));
        await assert.rejects(handle.describe(), WorkflowNotFoundError, 'nothing started');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    /** Starts the order as the API did before keys were scoped: under the key's own id, with the memo it wrote. */
    async function placeAsBeforeScoping(key: string, body: unknown): Promise<string> {
      const orderId = legacyOrderIdFor(key);
      const order = orderRequestSchema.parse(body);
      const input: OrderSagaInput = {
        orderId,
        customerId: order.customerId,
        items: order.items,
        paymentToken: order.payment.token,
        shippingAddress: order.shippingAddress,
        approvalThresholdCents,
        approvalTimeout: '24h',
      };
      await stack.temporal.client.workflow.start(orderWorkflowType, {
        workflowId: orderWorkflowId(orderId),
        taskQueue: orderWorkflowTaskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: {
          [orderMemoFields.requestId]: `before-scoping-${key}`,
          [orderMemoFields.requestFingerprint]: orderRequestFingerprint(order),
          [orderMemoFields.customerId]: order.customerId,
        },
      });
      return orderId;
    }

    test("an order placed before keys were scoped: its customer's repeat gets it, another's key its own", async () => {
      const key = `order-1-${randomUUID()}`;
      const legacyOrder = await placeAsBeforeScoping(key, bodyOf('cus_alice'));

      const repeat = await placeAs('alice', key, bodyOf('cus_alice'));
      assert.equal(repeat.status, 201, JSON.stringify(repeat.body));
      assert.equal(repeat.body.orderId, legacyOrder, 'the first answer: the order placed then');
      assert.equal(repeat.headers.get('idempotent-replayed'), 'true');
      assertProblem(await placeAs('alice', key, bodyOf('cus_alice', 3)), 422, 'Idempotency key reused');

      const bob = await placeAs('bob', key, bodyOf('cus_bob', 2));
      assert.equal(bob.status, 201, JSON.stringify(bob.body));
      assert.equal(bob.body.orderId, orderIdFor('cus_bob', key));
      assert.equal(bob.headers.get('idempotent-replayed'), null);
      assert.ok(!JSON.stringify(bob.body).includes(legacyOrder), "bob's answer does not name alice's order");

      assert.equal((await waitUntilFinal(legacyOrder)).status, 'confirmed');
      assert.equal(await runsOf(legacyOrder), 1, 'the repeat started nothing');
      assert.equal((await stack.gatewayClient.chargesOfOrder(legacyOrder)).length, 1);
      assert.equal((await stack.db.orders.order.findUnique({ where: { id: legacyOrder } }))?.customerId, 'cus_alice');
    });

    test('an order placed before keys were scoped, its run gone (retention): the order row still answers', async () => {
      const key = `order-1-${randomUUID()}`;
      const legacyOrder = await placeAsBeforeScoping(key, bodyOf('cus_alice'));
      assert.equal((await waitUntilFinal(legacyOrder)).status, 'confirmed');
      // What the namespace's retention does to a closed run.
      const workflowId = orderWorkflowId(legacyOrder);
      await stack.temporal.client.workflowService.deleteWorkflowExecution({
        namespace: stack.temporal.client.options.namespace,
        workflowExecution: { workflowId },
      });
      // The dev server takes about 30 s to delete a closed run.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const gone = await stack.temporal.client.workflow
          .getHandle(workflowId)
          .describe()
          .then(
            () => false,
            (error: unknown) => error instanceof WorkflowNotFoundError,
          );
        if (gone) break;
        if (Date.now() > deadline) assert.fail(`${workflowId} was not deleted`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      // As before scoping: a new run under the order's id, whose steps find what they stored the first time.
      const repeat = await placeAs('alice', key, bodyOf('cus_alice'));
      assert.equal(repeat.status, 201, JSON.stringify(repeat.body));
      assert.equal(repeat.body.orderId, legacyOrder);
      assert.equal((repeat.body.state as OrderSagaState).orderId, legacyOrder);
      assert.equal((await waitUntilFinal(legacyOrder)).status, 'confirmed');
      assert.equal((await stack.gatewayClient.chargesOfOrder(legacyOrder)).length, 1, 'charged once, not twice');

      const bob = await placeAs('bob', key, bodyOf('cus_bob'));
      assert.equal(bob.status, 201, JSON.stringify(bob.body));
      assert.equal(bob.body.orderId, orderIdFor('cus_bob', key));
      assert.ok(!JSON.stringify(bob.body).includes(legacyOrder));
    });
  });
});
