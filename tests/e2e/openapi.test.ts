import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { docsPath, httpMethods, openApiDocument, openApiPath, type HttpMethod } from '../../src/api/openapi';
import { requestIdHeader } from '../../src/api/request-id';
import { createServiceDb, openServiceDatabases, readModelDatabase } from '../../src/db';
import { paymentTokens, soldOutSku, undeliverablePostalCode } from '../../src/domain/failure-triggers';
import { serviceNames, type ServiceName } from '../../src/temporal/names';
import { finalStatuses, type OrderStatus } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';

/**
 * The OpenAPI document is the contract: every route the app serves is in it,
 * nothing else is, and every answer the real system gives (status, content
 * type, body) is one the document describes.
 */

const doc = openApiDocument;

// Nothing listens here: routes are only listed, and a call that reaches Temporal answers 503.
const unreachable = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' });
after(() => unreachable.close());

// Clients open their database on first use; these never are (the routes are listed, Temporal is unreachable).
const unusedDir = mkdtempSync(path.join(tmpdir(), 'order-saga-openapi-'));
after(() => rmSync(unusedDir, { recursive: true, force: true }));
const unusedUrl = (name: string) => `file:${path.join(unusedDir, `${name}.db`)}`;
const unusedReadModel = {
  views: createServiceDb(readModelDatabase, unusedUrl(readModelDatabase)),
  serviceDbs: openServiceDatabases(
    Object.fromEntries(serviceNames.map((service) => [service, unusedUrl(service)])) as Record<ServiceName, string>,
  ),
};

function appWithout(dependency: string): Express {
  return createApp({
    readModel: unusedReadModel,
    client: new Client({ connection: unreachable }),
    logger: pino({ level: 'silent' }),
    approval: { thresholdCents: 100_000, timeout: '24h' },
    readinessChecks: [
      {
        name: dependency,
        check: () => Promise.reject(new Error('connection refused')),
      },
    ],
  });
}

interface RouteLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
  /** router 2.x: true for a layer mounted at '/' (app.use(router) without a path). */
  slash?: boolean;
  name?: string;
}

/** Every route of the app as "METHOD /openapi/{style}", walking the routers mounted with app.use(router). */
function routesOf(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: RouteLayer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const [method, enabled] of Object.entries(layer.route.methods)) {
            if (enabled) routes.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
          }
        }
      } else if (layer.handle?.stack) {
        // A router mounted under a path would make the paths above relative; none is, and this says so if one is.
        assert.ok(layer.slash, `a router (${layer.name}) is mounted under a path: list its routes with their prefix`);
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: RouteLayer[] } }).router.stack);
  return routes.sort();
}

function documentedRoutes(): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => httpMethods.filter((method) => item[method]).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

describe('the OpenAPI document lists exactly the routes the app serves', () => {
  test('every route is documented, and every documented route exists', () => {
    const served = routesOf(appWithout('orders-database'));
    assert.ok(served.includes('POST /orders') && served.includes('GET /health/ready'), served.join(', '));
    assert.deepEqual(served, documentedRoutes());
  });

  test('every operation documents its answers, problems as application/problem+json', () => {
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of httpMethods) {
        const operation = item[method];
        if (!operation) continue;
        assert.ok(!operationIds.has(operation.operationId), `operationId ${operation.operationId} twice`);
        operationIds.add(operation.operationId);
        const params = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
        for (const name of params) {
          assert.ok(
            operation.parameters.some((p) => p.in === 'path' && p.name === name && p.required),
            `${method} ${path} documents {${name}}`,
          );
        }
        assert.ok(operation.responses.default, `${method} ${path} has a default (problem) answer`);
        for (const [status, response] of Object.entries(operation.responses)) {
          const types = Object.keys(response.content ?? {});
          if (status === 'default' || (Number(status) >= 400 && !path.startsWith('/health/'))) {
            assert.deepEqual(types, ['application/problem+json'], `${method} ${path} ${status}`);
          }
          assert.ok(response.headers?.[requestIdHeader], `${method} ${path} ${status} documents ${requestIdHeader}`);
        }
      }
    }
  });
});

// Strict: a keyword that is not JSON Schema 2020-12 (e.g. OpenAPI 3.0's `example`) fails to compile.
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
// The document's components travel with each schema, so its `#/components/schemas/...` references resolve.
ajv.addKeyword('components');
const validators = new Map<string, ValidateFunction>();

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** Asserts that the document describes this answer of `METHOD template`: status, content type, headers and body. */
function assertDocumented(method: HttpMethod, template: string, answer: Answer): void {
  const where = `${method.toUpperCase()} ${template} ${answer.status}`;
  const operation = doc.paths[template]?.[method];
  assert.ok(operation, `${method.toUpperCase()} ${template} is documented`);
  // An explicit entry, not `default`: every answer a client can provoke is named.
  const response = operation.responses[String(answer.status)];
  assert.ok(response, `${where} is a documented status (${answer.text.slice(0, 300)})`);
  const contentType = (answer.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const media = response.content?.[contentType];
  assert.ok(media, `${where}: ${contentType} is a documented content type`);
  for (const header of Object.keys(response.headers ?? {})) {
    // Only on repeats (checked by value below), and only when the client asked for respond-async.
    if (header === 'Idempotent-Replayed' || header === 'Preference-Applied') continue;
    assert.ok(answer.headers.get(header), `${where} carries ${header}`);
  }
  const replayed = answer.headers.get('idempotent-replayed');
  if (replayed !== null) assert.equal(replayed, 'true');
  if (contentType.endsWith('json')) {
    const key = `${method} ${template} ${answer.status} ${contentType}`;
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile({ ...media.schema, components: doc.components });
      validators.set(key, validate);
    }
    assert.ok(validate(answer.body), `${where}: ${ajv.errorsText(validate.errors)}\n${answer.text}`);
  }
  covered.add(`${method.toUpperCase()} ${template} ${answer.status}`);
}

const covered = new Set<string>();

describe('every answer of the real system matches the document', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack('sqlite');
  });
  after(async () => {
    await stack?.stop();
  });

  async function call(
    method: HttpMethod,
    template: string,
    { path = template, body, headers = {} }: { path?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const init: RequestInit = { method: method.toUpperCase(), headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': 'application/json', ...headers };
    }
    const response = await fetch(`${stack.baseUrl}${path}`, init);
    const text = await response.text();
    const json = /json/.test(response.headers.get('content-type') ?? '');
    const answer: Answer = {
      status: response.status,
      headers: response.headers,
      body: json ? (JSON.parse(text) as unknown) : text,
      text,
    };
    assertDocumented(method, template, answer);
    return answer;
  }

  const order = (items = [{ sku: 'SKU-MUG', quantity: 1 }], token: string = paymentTokens.approved) => ({
    customerId: 'cus_openapi',
    items,
    payment: { token },
    shippingAddress: { recipient: 'Ada', line1: '1 Loop St', city: 'Springfield', postalCode: '12345', country: 'US' },
  });

  async function place(body: ReturnType<typeof order>, key = randomUUID()): Promise<string> {
    const placed = await call('post', '/orders', { body, headers: { 'idempotency-key': key } });
    assert.equal(placed.status, 201, placed.text);
    return (placed.body as { orderId: string }).orderId;
  }

  /** Polls the order (each answer checked against the document) until it reaches one of `statuses`. */
  async function waitFor(orderId: string, statuses: readonly OrderStatus[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = await call('get', '/orders/{orderId}', { path: `/orders/${orderId}` });
      assert.equal(state.status, 200);
      if (statuses.includes((state.body as { status: OrderStatus }).status)) return;
      assert.ok(Date.now() < deadline, `order ${orderId} never reached ${statuses.join(' or ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const orderPath = (orderId: string, action?: string) => `/orders/${orderId}${action ? `/${action}` : ''}`;
  const action = (name: string, orderId: string, body?: unknown) =>
    call('post', `/orders/{orderId}/${name}`, { path: orderPath(orderId, name), body });

  test('placing an order: 201, 202 when asked, its repeat, and the refusals (400, 413, 415, 422)', async () => {
    const key = randomUUID();
    const orderId = await place(order(), key);
    const repeat = await call('post', '/orders', { body: order(), headers: { 'idempotency-key': key } });
    assert.equal(repeat.status, 201);
    assert.equal(repeat.headers.get('idempotent-replayed'), 'true');
    assert.equal((repeat.body as { orderId: string }).orderId, orderId);
    const reused = await call('post', '/orders', {
      body: order([{ sku: 'SKU-MUG', quantity: 2 }]),
      headers: { 'idempotency-key': key },
    });
    assert.equal(reused.status, 422);
    assert.equal((reused.body as { type: string }).type, '/problems/idempotency-key-reused');
    const asynchronous = await call('post', '/orders', {
      body: order(),
      headers: { 'idempotency-key': randomUUID(), prefer: 'respond-async' },
    });
    assert.equal(asynchronous.status, 202);
    assert.equal(asynchronous.headers.get('preference-applied'), 'respond-async');
    const soldOut = await call('post', '/orders', {
      body: order([{ sku: soldOutSku, quantity: 1 }]),
      headers: { 'idempotency-key': randomUUID() },
    });
    assert.equal(soldOut.status, 422);
    assert.equal((soldOut.body as { type: string }).type, '/problems/order-rejected');
    assert.equal((soldOut.body as { state: { status: string } }).state.status, 'failed');

    const invalid = await call('post', '/orders', {
      body: { ...order(), items: [{ sku: 'SKU-MUG', quantity: 0 }] },
      headers: { 'idempotency-key': randomUUID() },
    });
    assert.equal(invalid.status, 400);
    assert.equal((invalid.body as { errors: unknown[] }).errors.length, 1);
    assert.equal((await call('post', '/orders', { body: order() })).status, 400, 'no Idempotency-Key');
    const malformed = await call('post', '/orders', { body: '{"customerId":', headers: { 'idempotency-key': 'k' } });
    assert.equal(malformed.status, 400);
    const huge = await call('post', '/orders', {
      body: { ...order(), customerId: 'x'.repeat(40_000) },
      headers: { 'idempotency-key': randomUUID() },
    });
    assert.equal(huge.status, 413);
    const text = await call('post', '/orders', {
      body: 'an order',
      headers: { 'content-type': 'text/plain', 'idempotency-key': randomUUID() },
    });
    assert.equal(text.status, 415);
    await waitFor(orderId, finalStatuses);
  });

  test('reading orders: 200 in every state it passes through, 404 for unknown ones', async () => {
    const orderId = await place(order());
    await waitFor(orderId, finalStatuses);
    const unknown = await call('get', '/orders/{orderId}', { path: orderPath('ord_000000000000000000000000') });
    assert.equal(unknown.status, 404);
    assert.equal((await call('get', '/orders/{orderId}', { path: orderPath('not-an-order') })).status, 404);
  });

  test('the read side: the list, its refusals, an order history and the projection lag', async () => {
    const orderId = await place(order());
    await waitFor(orderId, finalStatuses);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const history = await call('get', '/orders/{orderId}/events', { path: orderPath(orderId, 'events') });
      if (history.status === 200 && (history.body as { events: unknown[] }).events.length >= 6) break;
      assert.ok(Date.now() < deadline, `the history of ${orderId} stayed incomplete: ${history.text}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const unknown = await call('get', '/orders/{orderId}/events', { path: orderPath('ord_000000000000000000000000') });
    assert.equal(unknown.status, 404);
    const list = await call('get', '/orders', { path: '/orders?customerId=cus_openapi&limit=2' });
    assert.equal(list.status, 200);
    const { nextCursor } = list.body as { nextCursor: string | null };
    if (nextCursor) {
      const next = await call('get', '/orders', {
        path: `/orders?customerId=cus_openapi&limit=2&cursor=${nextCursor}`,
      });
      assert.equal(next.status, 200);
    }
    assert.equal((await call('get', '/orders', { path: '/orders?cursor=forged' })).status, 400);
    assert.equal((await call('get', '/health/projection')).status, 200);
  });

  test('decisions: 202 when the order can take them, 400, 404, 409 and 415 otherwise', async () => {
    const laptop = [{ sku: 'SKU-LAPTOP', quantity: 1 }];
    const [confirmed, toApprove, toReject, toCancel] = await Promise.all([
      place(order()),
      place(order(laptop)),
      place(order(laptop)),
      place(order(laptop)),
    ]);
    await Promise.all([
      waitFor(confirmed, ['confirmed']),
      ...[toApprove, toReject, toCancel].map((orderId) => waitFor(orderId, ['awaiting-approval'])),
    ]);

    assert.equal((await action('approve', confirmed, { decidedBy: 'ops' })).status, 409);
    assert.equal((await action('reject', confirmed, { decidedBy: 'ops' })).status, 409);
    assert.equal((await action('cancel', confirmed)).status, 409);
    assert.equal((await action('compensation', confirmed, { action: 'retry', note: 'why not' })).status, 409);
    assert.equal((await action('approve', toApprove, { decidedBy: '' })).status, 400);
    assert.equal((await action('cancel', toCancel, { reason: 'x'.repeat(501) })).status, 400);
    assert.equal((await action('approve', 'ord_000000000000000000000000', { decidedBy: 'ops' })).status, 404);
    const notJson = await call('post', '/orders/{orderId}/reject', {
      path: orderPath(toReject, 'reject'),
      body: 'decidedBy=ops',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(notJson.status, 415);

    assert.equal((await action('approve', toApprove, { decidedBy: 'ops', comment: 'known customer' })).status, 202);
    assert.equal((await action('reject', toReject, { decidedBy: 'ops' })).status, 202);
    assert.equal((await action('cancel', toCancel)).status, 200, 'cancelled and compensated within the wait');
    await Promise.all([toApprove, toReject, toCancel].map((orderId) => waitFor(orderId, finalStatuses)));
  });

  test('a compensation that needs an operator: its state and the 202 of the resolution', async () => {
    const orderId = await place({
      ...order([{ sku: 'SKU-HOODIE', quantity: 1 }], paymentTokens.refundRejected),
      shippingAddress: { ...order().shippingAddress, postalCode: undeliverablePostalCode },
    });
    await waitFor(orderId, ['needs-attention']);
    const resolved = await action('compensation', orderId, { action: 'mark-resolved', note: 'refunded by hand' });
    assert.equal(resolved.status, 202);
    await waitFor(orderId, finalStatuses);
  });

  test('health and the documentation itself', async () => {
    assert.equal((await call('get', '/health/live')).status, 200);
    assert.equal((await call('get', '/health/ready')).status, 200);
    assert.equal((await call('get', '/metrics')).status, 200);
    const document = await call('get', openApiPath);
    assert.equal(document.status, 200);
    assert.deepEqual(document.body, JSON.parse(JSON.stringify(doc)));
  });

  test("a problem's type resolves to the API's page describing it", async () => {
    const problem = await call('get', '/orders/{orderId}', { path: orderPath('ord_000000000000000000000000') });
    const type = (problem.body as { type: string }).type;
    const page = await call('get', '/problems/{type}', { path: new URL(type, stack.baseUrl).pathname });
    assert.equal(page.status, 200);
    assert.match(page.text, /Order not found/);
  });

  test('the interactive docs page loads everything from the API itself', async () => {
    const page = await call('get', docsPath);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.doesNotMatch(page.text, /https?:|\/\/[a-z]/i, 'no external URL in the page');
    const urls = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url ?? '');
    assert.ok(urls.length >= 3, urls.join(', '));
    for (const url of urls) {
      assert.match(url, /^\/docs\//);
      const template = url.startsWith('/docs/assets/') ? '/docs/assets/{asset}' : url;
      const asset = await call('get', template, { path: url });
      assert.equal(asset.status, 200, url);
      assert.ok(asset.text.length > 0, url);
    }
    const initializer = await call('get', '/docs/init.js');
    assert.match(initializer.text, /"url":"\/openapi\.json"/);
    assert.match(initializer.text, /"validatorUrl":null/);
    // Only the files the page needs: the package's own index.html points at a public demo document.
    const other = await fetch(`${stack.baseUrl}/docs/assets/index.html`);
    assert.equal(other.status, 404);
    await other.arrayBuffer();
  });

  test('the answers above covered every route and the statuses that matter', () => {
    const routes = new Set([...covered].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
    assert.deepEqual([...routes].sort(), documentedRoutes());
    const statuses = new Set([...covered].map((entry) => entry.split(' ')[2]));
    for (const status of ['200', '201', '202', '400', '404', '409', '413', '415', '422']) {
      assert.ok(statuses.has(status), `some answer was ${status}`);
    }
  });
});

describe('answers when a dependency is down match the document', () => {
  const app = appWithout('orders-database');

  async function answerOf(path: string): Promise<Answer> {
    const response = await request(app).get(path);
    return {
      status: response.status,
      headers: new Headers(response.headers),
      body: response.body,
      text: response.text,
    };
  }

  test('readiness: 503 naming the dependency', async () => {
    const answer = await answerOf('/health/ready');
    assert.equal(answer.status, 503);
    assertDocumented('get', '/health/ready', answer);
  });

  test('Temporal unreachable: 503 problem', async () => {
    const answer = await answerOf('/orders/ord_000000000000000000000000');
    assert.equal(answer.status, 503);
    assertDocumented('get', '/orders/{orderId}', answer);
  });
});
