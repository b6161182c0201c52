import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import Ajv2020 from 'ajv/dist/2020';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { openApiDocument, openApiPath, type OpenApiParameter } from '../../src/api/openapi';
import { problemTypes } from '../../src/api/problem-types';
import { createServiceDb, openServiceDatabases, readModelDatabase } from '../../src/db';
import { encodeCursor, queryFingerprint } from '../../src/read-model/cursor';
import { serviceNames, type ServiceName } from '../../src/temporal/names';
import { apiTypesFile, openApiFile, renderOpenApiFiles } from '../../scripts/openapi';

/**
 * The contract as outside tools read it (issue 19): undeclared methods, 503s, problem types, the list's cursor, the
 * links between operations, and the committed copies of the document. The fuzzer (npm run fuzz:api) checks the same
 * against the running system; these fail fast, without one.
 */

// Nothing listens here: a call that reaches Temporal answers 503.
const unreachable = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' });
after(() => unreachable.close());
const unusedDir = mkdtempSync(path.join(tmpdir(), 'order-saga-contract-'));
after(() => rmSync(unusedDir, { recursive: true, force: true }));
const unusedUrl = (name: string) => `file:${path.join(unusedDir, `${name}.db`)}`;

const app = createApp({
  readModel: {
    views: createServiceDb(readModelDatabase, unusedUrl(readModelDatabase)),
    serviceDbs: openServiceDatabases(
      Object.fromEntries(serviceNames.map((service) => [service, unusedUrl(service)])) as Record<ServiceName, string>,
    ),
  },
  client: new Client({ connection: unreachable }),
  logger: pino({ level: 'silent' }),
  approval: { thresholdCents: 100_000, timeout: '24h' },
  readinessChecks: [{ name: 'temporal', check: () => Promise.reject(new Error('connection refused')) }],
});

const doc = openApiDocument;
const orderId = 'ord_000000000000000000000000';

describe('a method a documented path does not take: 405 with Allow, not 404', () => {
  for (const [method, url, allow] of [
    ['TRACE', '/health/live', 'GET, HEAD, OPTIONS'],
    ['DELETE', '/orders', 'GET, POST, HEAD, OPTIONS'],
    ['PUT', `/orders/${orderId}`, 'GET, HEAD, OPTIONS'],
    ['GET', `/orders/${orderId}/cancel`, 'POST, OPTIONS'],
    ['PATCH', '/docs/init.js', 'GET, HEAD, OPTIONS'],
  ] as const) {
    test(`${method} ${url}`, async () => {
      const response = await request(app)[method.toLowerCase() as 'get'](url);
      assert.equal(response.status, 405, response.text);
      assert.equal(response.headers.allow, allow);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.equal((response.body as { type: string }).type, '/problems/method-not-allowed');
    });
  }

  test('a path the document does not have is still 404', async () => {
    const response = await request(app).delete('/no-such-path');
    assert.equal(response.status, 404);
    assert.equal(response.headers.allow, undefined);
  });

  test('OPTIONS lists every method the document declares, GET and POST of /orders alike', async () => {
    const response = await request(app).options('/orders');
    assert.equal(response.status, 204);
    assert.equal(response.headers.allow, 'GET, POST, HEAD, OPTIONS');
  });
});

describe('503 answers carry Retry-After', () => {
  test('Temporal unreachable (GET /orders/{orderId}): problem+json with Retry-After, as documented', async () => {
    const response = await request(app).get(`/orders/${orderId}`);
    assert.equal(response.status, 503);
    assert.match(response.headers['retry-after'] ?? '', /^[0-9]+$/);
    assert.ok(doc.paths['/orders/{orderId}']?.get?.responses['503']?.headers?.['Retry-After']);
  });

  test('readiness with a dependency down', async () => {
    const response = await request(app).get('/health/ready');
    assert.equal(response.status, 503);
    assert.match(response.headers['retry-after'] ?? '', /^[0-9]+$/);
  });

  test('every documented 503 documents Retry-After', () => {
    for (const [route, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const unavailable = operation.responses['503'];
        if (unavailable) assert.ok(unavailable.headers?.['Retry-After'], `${method} ${route} 503`);
      }
    }
  });
});

describe("a problem's type resolves to a page describing it", () => {
  test("the types of a 404, a 405 and a 400, resolved against the request's URL, are pages of the API", async () => {
    const answers = [
      await request(app).get('/no-such-path'),
      await request(app).delete('/orders'),
      await request(app).get('/orders?limit=0'),
    ];
    for (const answer of answers) {
      const { type, instance, title } = answer.body as { type: string; instance: string; title: string };
      const page = await request(app).get(new URL(type, `http://api.example${instance}`).pathname);
      assert.equal(page.status, 200, `${type}: ${page.text}`);
      assert.match(page.headers['content-type'] ?? '', /^text\/html/);
      assert.ok(page.text.includes(title), `${type} names its problem`);
    }
  });

  test('every type the document allows has a page, and the document lists the page', async () => {
    const schema = doc.components.schemas.Problem as { properties: { type: { enum: string[] } } };
    const types = schema.properties.type.enum;
    assert.deepEqual(
      types.filter((type) => type !== 'about:blank').sort(),
      Object.keys(problemTypes)
        .map((slug) => `/problems/${slug}`)
        .sort(),
    );
    for (const type of types.filter((type) => type.startsWith('/'))) {
      assert.equal((await request(app).get(type)).status, 200, type);
    }
    assert.ok(doc.paths['/problems/{type}']?.get);
    assert.equal((await request(app).get('/problems/no-such-problem')).status, 404);
  });
});

describe("GET /orders' cursor: what the document accepts is what the API reads", () => {
  const cursor = doc.paths['/orders']?.get?.parameters.find((parameter) => parameter.name === 'cursor');
  const validate = new Ajv2020({ strict: false }).compile((cursor as OpenApiParameter).schema);

  test('a cursor the API issues matches the documented form', () => {
    const issued = encodeCursor(
      { createdAt: new Date('2026-12-05T04:00:00.000Z'), orderId },
      queryFingerprint({ sort: 'createdAt:desc' }),
    );
    assert.ok(validate(issued), issued);
  });

  test('a value the API cannot read as a cursor (e.g. 0) is outside the documented form', () => {
    for (const value of ['0', 'forged', 'abc.def', `${'a'.repeat(10)}.${'b'.repeat(15)}`]) {
      assert.ok(!validate(value), value);
    }
  });
});

describe('links let tools and clients follow an order', () => {
  const targets = ['getOrder', 'getOrderEvents', 'cancelOrder', 'approveOrder', 'rejectOrder', 'resolveCompensation'];
  const operationIds = new Set(
    Object.values(doc.paths).flatMap((item) => Object.values(item).map((operation) => operation.operationId)),
  );

  for (const [route, status, expression] of [
    ['/orders post', '201', '$response.body#/orderId'],
    ['/orders post', '202', '$response.body#/orderId'],
    ['/orders get', '200', '$response.body#/orders/0/orderId'],
  ] as const) {
    test(`${route} ${status} links to every order operation`, () => {
      const [template, method] = route.split(' ') as [string, 'get' | 'post'];
      const links = doc.paths[template]?.[method]?.responses[status]?.links ?? {};
      assert.deepEqual(
        Object.values(links)
          .map((link) => link.operationId)
          .sort(),
        [...targets].sort(),
      );
      for (const link of Object.values(links)) {
        assert.ok(operationIds.has(link.operationId), link.operationId);
        assert.deepEqual(link.parameters, { orderId: expression });
      }
    });
  }
});

describe('the committed document and client types are what the API serves', () => {
  test('openapi.json is the document GET /openapi.json serves', async () => {
    const served = await request(app).get(openApiPath);
    assert.equal(served.status, 200);
    const committed: unknown = JSON.parse(readFileSync(openApiFile, 'utf8'));
    assert.deepEqual(committed, served.body, 'openapi.json is stale: run npm run openapi:write and commit it');
  });

  test('openapi.json and tooling/cli/api-types.ts are byte for byte what npm run openapi:write writes', async () => {
    for (const [file, contents] of Object.entries(await renderOpenApiFiles())) {
      let committed = '';
      try {
        committed = readFileSync(file, 'utf8');
      } catch {
        // Missing: stale.
      }
      assert.ok(committed === contents, `${path.basename(file)} is stale: run npm run openapi:write and commit it`);
    }
    assert.ok(apiTypesFile.endsWith(path.join('tooling', 'cli', 'api-types.ts')));
  });
});
