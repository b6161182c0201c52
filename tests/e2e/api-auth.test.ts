/**
 * Protection of the API: API keys with roles (401/403), the rate limit (429)
 * and the size limits of an order (413, 400), each answered as problem+json
 * with the status the OpenAPI document names.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { hashApiKey, type ApiAuth } from '../../src/api/auth';
import { openApiDocument } from '../../src/api/openapi';
import { ConfigError, loadConfig } from '../../src/config';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { startStack, type Stack } from '../support/stack';

const keys = { operator: 'operator-secret', alice: 'alice-secret', bob: 'bob-secret' } as const;

const auth: ApiAuth = {
  mode: 'required',
  keys: [
    { name: 'ops', role: 'operator', sha256: hashApiKey(keys.operator) },
    { name: 'cus_alice', role: 'customer', sha256: hashApiKey(keys.alice) },
    { name: 'cus_bob', role: 'customer', sha256: hashApiKey(keys.bob) },
  ],
};

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const order = (customerId: string, items = [{ sku: 'SKU-MUG', quantity: 1 }]) => ({
  customerId,
  items,
  payment: { token: paymentTokens.approved },
  shippingAddress: { recipient: 'Ada', line1: '1 Loop St', city: 'Springfield', postalCode: '12345', country: 'US' },
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

/** The exact status, problem+json, and a status the document lists for this route. */
function assertProblem(
  answer: { status: number; headers: Headers | Record<string, string>; body: unknown },
  status: number,
  title: string,
  documentedAt?: { path: string; method: 'get' | 'post' },
): Problem {
  const header = (name: string) =>
    answer.headers instanceof Headers ? answer.headers.get(name) : (answer.headers[name] ?? null);
  const body = answer.body as Problem;
  assert.equal(answer.status, status, JSON.stringify(body));
  assert.match(header('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(body.status, status);
  assert.equal(body.title, title);
  if (documentedAt) {
    const documented = openApiDocument.paths[documentedAt.path]?.[documentedAt.method]?.responses[String(status)];
    assert.ok(documented, `${documentedAt.method} ${documentedAt.path} documents ${status}`);
  }
  return body;
}

describe('configuration', () => {
  test('API_AUTH is required unless set off; API_KEYS entries are parsed, bad ones named without the key', () => {
    const hash = hashApiKey('k');
    const config = loadConfig({ API_KEYS: ` ops:operator:${hash} , cus_1:customer:${hashApiKey('j')}` });
    assert.deepEqual(config.api.auth, {
      mode: 'required',
      keys: [
        { name: 'ops', role: 'operator', sha256: hash },
        { name: 'cus_1', role: 'customer', sha256: hashApiKey('j') },
      ],
    });
    assert.equal(config.api.rateLimitPerMinute, 600);
    assert.deepEqual(loadConfig({ API_AUTH: 'off' }).api.auth, { mode: 'off' });
    assert.throws(
      () => loadConfig({ API_KEYS: `ops:admin:${hash},my-plain-secret` }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /API_KEYS: entry 1 is not/.test(error.message) &&
        /entry 2 is not/.test(error.message) &&
        !error.message.includes('my-plain-secret'),
    );
    assert.throws(() => loadConfig({ API_KEYS: `a:operator:${hash},b:customer:${hash}` }), /configured twice/);
  });
});

// Nothing listens here: an answer other than 503 was given before Temporal was asked.
const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' });
after(() => connection.close());

function appWith(rateLimitPerMinute: number) {
  return createApp({
    client: new Client({ connection }),
    logger: pino({ level: 'silent' }),
    approval: { thresholdCents: 100_000, timeout: '24h' },
    readinessChecks: [],
    protection: { auth, rateLimitPerMinute },
  });
}

describe('without Temporal: refusals before anything starts', () => {
  const app = appWith(1_000);
  const post = (body: unknown, headers: Record<string, string>) =>
    request(app)
      .post('/orders')
      .set({ 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...headers })
      .send(JSON.stringify(body));
  const placeOrder = { path: '/orders', method: 'post' } as const;

  test('no key, an unknown key, a malformed header: 401 with WWW-Authenticate: Bearer', async () => {
    const attempts: Record<string, string>[] = [
      {},
      bearer('not-a-key'),
      { 'x-api-key': 'not-a-key' },
      { authorization: 'Basic Zm9v' },
    ];
    for (const headers of attempts) {
      const response = await post(order('cus_alice'), headers);
      assertProblem(response, 401, 'Unauthenticated', placeOrder);
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    }
    const read = await request(app).get('/orders/ord_000000000000000000000000');
    assertProblem(read, 401, 'Unauthenticated', { path: '/orders/{orderId}', method: 'get' });
  });

  test('the key is checked before the body is read: an oversized body without a key is 401, not 413', async () => {
    assertProblem(await post(order('x'.repeat(100_000)), {}), 401, 'Unauthenticated');
  });

  test('health, the document and the docs page need no key', async () => {
    assert.equal((await request(app).get('/health/live')).status, 200);
    assert.equal((await request(app).get('/openapi.json')).status, 200);
    assert.equal((await request(app).get('/docs')).status, 200);
  });

  test('a customer placing an order for another customer: 403; the X-API-Key header works like Bearer', async () => {
    const body = assertProblem(await post(order('cus_bob'), bearer(keys.alice)), 403, 'Forbidden', placeOrder);
    assert.match(body.detail, /cus_alice/);
    assertProblem(await post(order('cus_bob'), { 'x-api-key': keys.alice }), 403, 'Forbidden');
  });

  test('a customer approving, rejecting or resolving a compensation: 403', async () => {
    for (const action of ['approve', 'reject', 'compensation']) {
      const response = await request(app)
        .post(`/orders/ord_000000000000000000000000/${action}`)
        .set(bearer(keys.alice))
        .send({ decidedBy: 'alice' });
      assertProblem(response, 403, 'Forbidden', { path: `/orders/{orderId}/${action}`, method: 'post' });
    }
  });

  test('a body over 32 kB: 413', async () => {
    const response = await post({ ...order('cus_alice'), customerId: 'x'.repeat(40_000) }, bearer(keys.operator));
    assertProblem(response, 413, 'Body too large', placeOrder);
  });

  test('more than 50 items: 400 naming items', async () => {
    const items = Array.from({ length: 51 }, (_, index) => ({ sku: `SKU-${index}`, quantity: 1 }));
    const body = assertProblem(await post(order('cus_alice', items), bearer(keys.alice)), 400, 'Invalid request');
    assert.deepEqual(
      body.errors?.map(({ field }) => field),
      ['items'],
    );
    assert.match(body.errors?.[0]?.message ?? '', /50/);
  });

  test('a quantity outside 1..100: 400 naming the item', async () => {
    for (const quantity of [0, 101, 1.5]) {
      const items = [{ sku: 'SKU-MUG', quantity }];
      const body = assertProblem(await post(order('cus_alice', items), bearer(keys.alice)), 400, 'Invalid request');
      assert.deepEqual(
        body.errors?.map(({ field }) => field),
        ['items.0.quantity'],
        `quantity ${quantity}`,
      );
    }
  });
});

describe('the rate limit', () => {
  test('per key: the request over the limit is 429 with Retry-After; other keys and health are not counted', async () => {
    const app = appWith(3);
    // An order id of the wrong shape is answered 404 without asking Temporal.
    const read = (key: string) => request(app).get('/orders/no-such-order').set(bearer(key));
    for (let call = 1; call <= 3; call++) {
      const response = await read(keys.alice);
      assert.equal(response.status, 404);
      assert.match(String(response.headers.ratelimit), new RegExp(`r=${3 - call}`));
      assert.match(String(response.headers['ratelimit-policy']), /q=3; w=60/);
      assert.equal((await request(app).get('/health/live')).status, 200);
    }
    const limited = await read(keys.alice);
    assertProblem(limited, 429, 'Too many requests', { path: '/orders/{orderId}', method: 'get' });
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.match(String(limited.headers.ratelimit), /r=0/);
    assert.equal((await read(keys.bob)).status, 404, "another key's quota is its own");
    assert.equal((await request(app).get('/health/live')).status, 200, 'health is exempt');
  });

  test('without a key, by client IP: guessing keys is limited too', async () => {
    const app = appWith(2);
    for (let call = 1; call <= 2; call++) {
      assert.equal(
        (
          await request(app)
            .get('/orders/no-such-order')
            .set(bearer(`guess-${call}`))
        ).status,
        401,
      );
    }
    assertProblem(await request(app).get('/orders/no-such-order').set(bearer('guess-3')), 429, 'Too many requests');
  });
});

describe('with the real stack: roles on real orders', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack('sqlite', { protection: { auth, rateLimitPerMinute: 10_000 } });
  });
  after(async () => {
    await stack?.stop();
  });

  async function call(method: 'GET' | 'POST', path: string, key: string, body?: unknown) {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { ...bearer(key), 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as unknown };
  }

  test('customers reach their own orders only; operators every order and the decisions', async () => {
    const placed = await call('POST', '/orders', keys.alice, order('cus_alice'));
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const { orderId } = placed.body as { orderId: string };
    const path = `/orders/${orderId}`;

    const own = await call('GET', path, keys.alice);
    assert.equal(own.status, 200);
    assert.equal((own.body as { orderId: string }).orderId, orderId);
    assert.equal((await call('GET', path, keys.operator)).status, 200);

    const getOrder = { path: '/orders/{orderId}', method: 'get' } as const;
    assertProblem(await call('GET', path, keys.bob), 403, 'Forbidden', getOrder);
    const cancelOrder = { path: '/orders/{orderId}/cancel', method: 'post' } as const;
    assertProblem(await call('POST', `${path}/cancel`, keys.bob, {}), 403, 'Forbidden', cancelOrder);
    assertProblem(await call('POST', `${path}/approve`, keys.alice, { decidedBy: 'alice' }), 403, 'Forbidden');

    // Past authorisation: the workflow itself answers (this small order never awaits approval).
    const approved = await call('POST', `${path}/approve`, keys.operator, { decidedBy: 'ops' });
    assertProblem(approved, 409, 'Conflict');

    // An unknown order is 404 for a customer as well, not 403.
    assertProblem(await call('GET', '/orders/ord_000000000000000000000000', keys.alice), 404, 'Order not found');
  });
});
