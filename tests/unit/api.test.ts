import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { legacyOrderIdFor, orderIdFor } from '../../src/temporal/order-ids';

// Nothing listens here: a request that got as far as Temporal would answer
// 503, so every 4xx below proves the API refused it before starting anything.
const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' });
const client = new Client({ connection });
let databaseUp = true;

const app = createApp({
  client,
  logger: pino({ level: 'silent' }),
  approval: { thresholdCents: 100_000, timeout: '24h' },
  readinessChecks: [
    {
      name: 'orders-database',
      check: async () => {
        if (!databaseUp) throw new Error('connection refused');
      },
    },
  ],
});

after(() => connection.close());

const validOrder = {
  customerId: 'cus_1',
  items: [{ sku: 'SKU-MUG', quantity: 1 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { recipient: 'Ada', line1: '1 Loop St', city: 'Springfield', postalCode: '12345', country: 'US' },
};

function postOrder(body: unknown, key: string | null = 'key-1') {
  const call = request(app).post('/orders').set('content-type', 'application/json');
  if (key !== null) call.set('Idempotency-Key', key);
  return call.send(typeof body === 'string' ? body : JSON.stringify(body));
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

function assertProblem(response: request.Response, status: number, title: string): Problem {
  const body = response.body as Problem;
  assert.equal(response.status, status, JSON.stringify(body));
  assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(body.status, status);
  assert.equal(body.title, title);
  assert.equal(typeof body.detail, 'string');
  assert.doesNotMatch(JSON.stringify(body), /\n\s+at /, 'no stack trace');
  return body;
}

describe('POST /orders refuses bad input before starting anything', () => {
  test('missing Idempotency-Key: 400 naming the header', async () => {
    const problem = assertProblem(await postOrder(validOrder, null), 400, 'Invalid request');
    assert.deepEqual(problem.errors, [
      { field: 'Idempotency-Key', message: 'Invalid input: expected string, received undefined' },
    ]);
  });

  test('invalid fields: 400 with one error per field', async () => {
    const response = await postOrder({
      ...validOrder,
      items: [
        { sku: 'SKU-MUG', quantity: 0 },
        { sku: 'SKU-MUG', quantity: 1 },
      ],
      shippingAddress: { ...validOrder.shippingAddress, country: 'usa' },
      extra: true,
    });
    const problem = assertProblem(response, 400, 'Invalid request');
    const fields = (problem.errors ?? []).map((error) => error.field).sort();
    assert.deepEqual(fields, ['(body)', 'items', 'items.0.quantity', 'shippingAddress.country']);
  });

  test('wrong types and missing fields', async () => {
    const problem = assertProblem(await postOrder({ customerId: 7, items: 'mug' }), 400, 'Invalid request');
    const fields = (problem.errors ?? []).map((error) => error.field).sort();
    assert.deepEqual(fields, ['customerId', 'items', 'payment', 'shippingAddress']);
  });

  test('malformed JSON: 400', async () => {
    assertProblem(await postOrder('{"customerId": '), 400, 'Malformed JSON');
  });

  test('wrong content type: 415', async () => {
    const response = await request(app)
      .post('/orders')
      .set('Idempotency-Key', 'k')
      .set('content-type', 'text/plain')
      .send('hello');
    assertProblem(response, 415, 'Unsupported media type');
  });

  test('a huge body: 413', async () => {
    const response = await postOrder({ ...validOrder, customerId: 'x'.repeat(100_000) });
    assertProblem(response, 413, 'Body too large');
  });

  test('a JSON array or null instead of an object: 400', async () => {
    assertProblem(await postOrder('[]'), 400, 'Invalid request');
    assertProblem(await postOrder('null'), 400, 'Malformed JSON');
  });
});

describe('order lookups and messages', () => {
  test('an id that cannot be an order is 404 without asking Temporal', async () => {
    assertProblem(await request(app).get('/orders/not-an-order'), 404, 'Order not found');
    assertProblem(await request(app).post('/orders/nope/cancel'), 404, 'Order not found');
  });

  test('approve needs who decided: 400', async () => {
    const response = await request(app)
      .post(`/orders/${orderIdFor('cus_1', 'x')}/approve`)
      .set('content-type', 'application/json')
      .send('{}');
    assertProblem(response, 400, 'Invalid request');
  });

  test('Temporal unreachable: 503, not 500', async () => {
    const response = await request(app).get(`/orders/${orderIdFor('cus_1', 'x')}`);
    assertProblem(response, 503, 'Service unavailable');
  });

  test('Temporal unreachable: placing an order is 503 in both answer modes', async () => {
    assertProblem(await postOrder(validOrder, 'unreachable-1'), 503, 'Service unavailable');
    const asynchronous = await postOrder(validOrder, 'unreachable-2').set('prefer', 'respond-async');
    assertProblem(asynchronous, 503, 'Service unavailable');
  });

  test('an order id that is not valid percent-encoding: 400, not 500', async () => {
    assertProblem(await request(app).get('/orders/%E0%A4%A'), 400, 'Bad Request');
    assertProblem(await request(app).post('/orders/%/cancel'), 400, 'Bad Request');
  });

  test('unknown route: 404 problem', async () => {
    assertProblem(await request(app).get('/nothing-here'), 404, 'Not found');
  });

  test("an idempotency key names one order per customer; the legacy id is the key's alone", () => {
    assert.equal(orderIdFor('cus_1', 'abc'), orderIdFor('cus_1', 'abc'));
    assert.notEqual(orderIdFor('cus_1', 'abc'), orderIdFor('cus_1', 'abd'));
    assert.notEqual(orderIdFor('cus_1', 'abc'), orderIdFor('cus_2', 'abc'), 'two customers, two orders');
    assert.notEqual(orderIdFor('cus_1', 'abc'), legacyOrderIdFor('abc'));
    // The two parts cannot be shifted into one another.
    assert.notEqual(orderIdFor('a","b', 'c'), orderIdFor('a', 'b","c'));
    assert.match(orderIdFor('cus_1', 'abc'), /^ord_[0-9a-f]{24}$/);
    // As the API derived it before keys were scoped: the first 24 hex digits of SHA-256("abc").
    assert.equal(legacyOrderIdFor('abc'), 'ord_ba7816bf8f01cfea414140de');
  });
});

describe('health', () => {
  test('live is always 200', async () => {
    const response = await request(app).get('/health/live');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { status: 'ok' });
  });

  test('ready is 200 when every dependency answers and 503 naming the one that does not', async () => {
    databaseUp = true;
    const ok = await request(app).get('/health/ready');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { status: 'ready', checks: [{ name: 'orders-database', status: 'ok' }] });
    databaseUp = false;
    const down = await request(app).get('/health/ready');
    assert.equal(down.status, 503);
    assert.deepEqual(down.body, {
      status: 'not ready',
      checks: [{ name: 'orders-database', status: 'unavailable', error: 'connection refused' }],
    });
  });
});
