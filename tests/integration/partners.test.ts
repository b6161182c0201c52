import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient, type InValue } from '@libsql/client';
import type { Express } from 'express';
import { undeliverablePostalCode } from '../../src/domain/failure-triggers';
import { createCarrierApp } from '../../simulators/carrier/app';
import {
  defaultCarrierPort,
  defaultGatewayPort,
  loadCarrierConfig,
  loadGatewayConfig,
  PartnerConfigError,
} from '../../simulators/config';
import {
  carrierPaths,
  chargeListSchema,
  chargeSchema,
  flakyChargeFailures,
  gatewayPaths,
  gatewayTestTokens,
  idempotencyKeyHeader,
  idempotentReplayedHeader,
  partnerFaultsSchema,
  partnerProblemSchema,
  rateQuoteSchema,
  refundSchema,
  type Charge,
  type ChargeRequest,
  type PartnerFaults,
  type PartnerProblem,
} from '../../src/partners/contract';
import { createFaultSwitch, isLoopbackAddress } from '../../simulators/faults';
import { createGatewayApp, requestFingerprint } from '../../simulators/gateway/app';
import { openGatewayStore, type GatewayStore } from '../../simulators/gateway/store';
import { projectRoot } from '../../src/project-root';
import { launchServiceProcess, type ServiceProcess } from '../../tooling/start/service-process';

/**
 * The partner processes over real HTTP on real ports: the gateway's
 * idempotency (replays, reuse, races, restarts) with the rows it leaves in its
 * database, its test tokens and refunds, bad input, the fault controls, the
 * carrier's quotes, and both entry points run as processes.
 */

const workDir = mkdtempSync(path.join(tmpdir(), 'partners-test-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

let databaseSequence = 0;
function newDatabaseFile(): string {
  return path.join(workDir, `gateway-${++databaseSequence}.db`);
}

interface Listening {
  url: string;
  close(): Promise<void>;
}

async function listen(app: Express): Promise<Listening> {
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  ms: number;
}

interface CallOptions {
  key?: string | null;
  body?: unknown;
  /** Sent as is (a string) instead of JSON. */
  rawBody?: string;
  contentType?: string | null;
  signal?: AbortSignal;
}

async function call(baseUrl: string, method: string, route: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null && (options.body !== undefined || options.rawBody !== undefined)) {
    headers['content-type'] = contentType;
  }
  if (options.key) headers[idempotencyKeyHeader] = options.key;
  const started = Date.now();
  const response = await fetch(new URL(route, baseUrl), {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    signal: options.signal,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text, and the assertion that expected JSON says so.
  }
  return { status: response.status, headers: response.headers, body, ms: Date.now() - started };
}

/** A problem+json answer with the given status and type, and never a stack trace. */
function assertProblem(answer: Answer, status: number, type: string): PartnerProblem {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const problem = partnerProblemSchema.parse(answer.body);
  assert.equal(problem.status, status);
  assert.equal(problem.type, type);
  assert.doesNotMatch(JSON.stringify(answer.body), /\n\s+at |node_modules/, 'no stack trace');
  return problem;
}

function replayed(answer: Answer): boolean {
  return answer.headers.get(idempotentReplayedHeader) === 'true';
}

/** Rows read straight from the gateway's database file, not through the app. */
async function query(databaseFile: string, sql: string, args: InValue[] = []) {
  const db = createClient({ url: `file:${databaseFile}` });
  try {
    return (await db.execute({ sql, args })).rows;
  } finally {
    db.close();
  }
}

async function chargeRows(databaseFile: string, orderId: string) {
  return query(databaseFile, 'SELECT id, status, amount_cents, refunded_cents FROM charges WHERE order_id = ?', [
    orderId,
  ]);
}

let orderSequence = 0;
function chargeRequest(overrides: Partial<ChargeRequest> = {}): ChargeRequest {
  return {
    amountCents: 2_400,
    currency: 'USD',
    token: gatewayTestTokens.approved,
    orderId: `ord_${++orderSequence}`,
    ...overrides,
  };
}

let keySequence = 0;
function newKey(label = 'key'): string {
  return `test-${label}-${++keySequence}-${Date.now()}`;
}

describe('payment gateway', () => {
  const databaseFile = newDatabaseFile();
  let store: GatewayStore;
  let gateway: Listening;
  const faults = createFaultSwitch();

  before(async () => {
    store = await openGatewayStore(`file:${databaseFile}`);
    gateway = await listen(createGatewayApp(store, faults));
  });
  after(async () => {
    await gateway?.close();
    store?.close();
  });

  const charge = (key: string | null, body: unknown, signal?: AbortSignal) =>
    call(gateway.url, 'POST', gatewayPaths.charges, { key, body, signal });
  const refund = (key: string, chargeId: string) =>
    call(gateway.url, 'POST', gatewayPaths.refunds, { key, body: { chargeId } });
  const setFaults = async (next: Partial<PartnerFaults>) => {
    const answer = await call(gateway.url, 'PUT', gatewayPaths.faults, { body: next });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return partnerFaultsSchema.parse(answer.body);
  };

  describe('charges and idempotency', () => {
    test('a charge is made once: 201, one row; the same key and body replays it', async () => {
      const request = chargeRequest();
      const key = newKey();
      const first = await charge(key, request);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const made = chargeSchema.parse(first.body);
      assert.match(made.id, /^ch_/);
      assert.deepEqual(made, {
        id: made.id,
        status: 'succeeded',
        amountCents: request.amountCents,
        currency: request.currency,
        orderId: request.orderId,
        declineReason: null,
        refundedCents: 0,
        createdAt: made.createdAt,
      });
      assert.ok(Math.abs(Date.parse(made.createdAt) - Date.now()) < 60_000, made.createdAt);
      assert.equal(replayed(first), false);

      // Keys in another order: the same request.
      const again = await charge(key, Object.fromEntries(Object.entries(request).reverse()));
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      assert.equal(replayed(again), true);

      const rows = await chargeRows(databaseFile, request.orderId);
      assert.deepEqual(
        rows.map((row) => ({ ...row })),
        [{ id: made.id, status: 'succeeded', amount_cents: request.amountCents, refunded_cents: 0 }],
      );
      const fetched = await call(gateway.url, 'GET', gatewayPaths.charge(made.id));
      assert.equal(fetched.status, 200);
      assert.deepEqual(fetched.body, first.body);
    });

    test('the same key with another body: 422 idempotency_key_reused, nothing charged', async () => {
      const request = chargeRequest();
      const key = newKey();
      assert.equal((await charge(key, request)).status, 201);
      const other = { ...request, amountCents: request.amountCents + 1 };
      assertProblem(await charge(key, other), 422, 'idempotency_key_reused');
      // Another route, same key: also another request.
      assertProblem(await refund(key, 'ch_any'), 422, 'idempotency_key_reused');
      assert.equal((await chargeRows(databaseFile, request.orderId)).length, 1);
    });

    test('tok_declined: 402 card_declined with the declined charge, stored and replayed', async () => {
      const request = chargeRequest({ token: gatewayTestTokens.declined });
      const key = newKey();
      const first = await charge(key, request);
      const problem = assertProblem(first, 402, 'card_declined');
      assert.ok(problem.charge);
      assert.equal(problem.charge.status, 'declined');
      assert.equal(typeof problem.charge.declineReason, 'string');
      const again = await charge(key, request);
      assert.equal(again.status, 402);
      assert.deepEqual(again.body, first.body);
      assert.equal(replayed(again), true);
      const rows = await chargeRows(databaseFile, request.orderId);
      assert.deepEqual(
        rows.map((row) => [row.id, row.status]),
        [[problem.charge.id, 'declined']],
      );
    });

    test(`tok_flaky: ${flakyChargeFailures} × 503 per key with nothing charged, then one charge`, async () => {
      const request = chargeRequest({ token: gatewayTestTokens.flaky });
      const key = newKey();
      for (let attempt = 1; attempt <= flakyChargeFailures; attempt += 1) {
        // A card-level outage, typed apart from the gateway's own 503 so clients do not blame the gateway.
        assertProblem(await charge(key, request), 503, 'issuer_unavailable');
        assert.equal((await chargeRows(databaseFile, request.orderId)).length, 0, `after failure ${attempt}`);
      }
      const made = await charge(key, request);
      assert.equal(made.status, 201);
      assert.equal(replayed(made), false, 'the 503s were not stored');
      assert.equal((await charge(key, request)).status, 201);

      // The count is per key: another key for the same order fails first too.
      const otherRequest = { ...request, orderId: `${request.orderId}-b` };
      assertProblem(await charge(newKey(), otherRequest), 503, 'issuer_unavailable');
      assert.equal((await chargeRows(databaseFile, request.orderId)).length, 1);
      assert.equal((await chargeRows(databaseFile, otherRequest.orderId)).length, 0);
    });

    test('tok_timeout_after_charge: the caller times out after the charge; its retry gets the charge at once', async () => {
      const request = chargeRequest({ token: gatewayTestTokens.timeoutAfterCharge });
      const key = newKey();
      await assert.rejects(charge(key, request, AbortSignal.timeout(500)), { name: 'TimeoutError' });
      const rows = await chargeRows(databaseFile, request.orderId);
      assert.equal(rows.length, 1, 'the money moved although the caller saw no answer');

      const retry = await charge(key, request);
      assert.equal(retry.status, 201);
      assert.equal(replayed(retry), true);
      assert.ok(retry.ms < 2_000, `the replay waited ${retry.ms} ms`);
      assert.equal(chargeSchema.parse(retry.body).id, rows[0]?.id);
    });

    test('20 concurrent requests with one key: one charge row; every answer is that charge or 409', async () => {
      const request = chargeRequest();
      const key = newKey('race');
      const answers = await Promise.all(Array.from({ length: 20 }, () => charge(key, request)));
      const rows = await chargeRows(databaseFile, request.orderId);
      assert.equal(rows.length, 1);
      for (const answer of answers) {
        if (answer.status === 409) {
          assertProblem(answer, 409, 'idempotency_key_in_use');
        } else {
          assert.equal(answer.status, 201, JSON.stringify(answer.body));
          assert.equal(chargeSchema.parse(answer.body).id, rows[0]?.id);
        }
      }
      assert.equal(answers.filter((answer) => answer.status === 201 && !replayed(answer)).length, 1);
    });

    test('a key whose first request is still being handled: 409 idempotency_key_in_use, then handled', async () => {
      const request = chargeRequest();
      const key = newKey();
      // The first request, caught half-way: its claim is taken, nothing is charged yet.
      const claim = await store.claimKey(key, requestFingerprint('POST', gatewayPaths.charges, request), Date.now());
      assert.deepEqual(claim, { outcome: 'claimed' });
      assertProblem(await charge(key, request), 409, 'idempotency_key_in_use');
      assert.equal((await chargeRows(databaseFile, request.orderId)).length, 0);
      await store.releaseKey(key);
      assert.equal((await charge(key, request)).status, 201);
    });

    test('keys past their retention are purged, a bounded batch at a time; a charged key still never charges twice', async () => {
      const purgeFile = newDatabaseFile();
      const purgeStore = await openGatewayStore(`file:${purgeFile}`);
      const purgeGateway = await listen(createGatewayApp(purgeStore, createFaultSwitch()));
      try {
        const request = chargeRequest();
        const key = newKey();
        assert.equal((await call(purgeGateway.url, 'POST', gatewayPaths.charges, { key, body: request })).status, 201);
        for (let index = 0; index < 2; index += 1) {
          await call(purgeGateway.url, 'POST', gatewayPaths.charges, { key: newKey(), body: chargeRequest() });
        }
        assert.equal(await purgeStore.purgeKeys(Date.now() - 60_000, 10), 0, 'nothing is old enough');
        assert.equal(await purgeStore.purgeKeys(Date.now() + 1, 2), 2);
        assert.equal(await purgeStore.purgeKeys(Date.now() + 1, 2), 1);
        assert.equal((await query(purgeFile, 'SELECT key FROM idempotency_keys')).length, 0);

        // The charge outlives its key: the unique key on charges refuses a second one.
        const late = await call(purgeGateway.url, 'POST', gatewayPaths.charges, { key, body: request });
        assertProblem(late, 422, 'idempotency_key_reused');
        assert.equal((await chargeRows(purgeFile, request.orderId)).length, 1);

        // So does a refund.
        const post = (route: string, refundKey: string, body: unknown) =>
          call(purgeGateway.url, 'POST', route, { key: refundKey, body });
        const charged = async () =>
          chargeSchema.parse((await post(gatewayPaths.charges, newKey(), chargeRequest())).body).id;
        const refundKey = newKey('refund');
        assert.equal((await post(gatewayPaths.refunds, refundKey, { chargeId: await charged() })).status, 201);
        await purgeStore.purgeKeys(Date.now() + 1, 100);
        const other = await charged();
        assertProblem(await post(gatewayPaths.refunds, refundKey, { chargeId: other }), 422, 'idempotency_key_reused');
        assert.equal((await query(purgeFile, 'SELECT id FROM refunds WHERE charge_id = ?', [other])).length, 0);
      } finally {
        await purgeGateway.close();
        purgeStore.close();
      }
    });

    test('a claim left in progress by a process that died is released when the store opens again', async () => {
      const crashFile = newDatabaseFile();
      const fingerprint = requestFingerprint('POST', gatewayPaths.charges, chargeRequest());
      const crashed = await openGatewayStore(`file:${crashFile}`);
      assert.deepEqual(await crashed.claimKey('k-crash', fingerprint, Date.now()), { outcome: 'claimed' });
      crashed.close(); // no release: as if the process had been killed mid-request
      const reopened = await openGatewayStore(`file:${crashFile}`);
      try {
        assert.deepEqual(await reopened.claimKey('k-crash', fingerprint, Date.now()), { outcome: 'claimed' });
      } finally {
        reopened.close();
      }
    });

    test('GET /v1/charges lists an order’s charges, newest first, and the newest without orderId', async () => {
      const first = chargeRequest();
      const second = { ...first, amountCents: 100 };
      const a = chargeSchema.parse((await charge(newKey(), first)).body);
      const b = chargeSchema.parse((await charge(newKey(), second)).body);
      const listed = await call(
        gateway.url,
        'GET',
        `${gatewayPaths.charges}?orderId=${encodeURIComponent(first.orderId)}`,
      );
      assert.equal(listed.status, 200);
      assert.deepEqual(
        chargeListSchema.parse(listed.body).charges.map((listedCharge: Charge) => listedCharge.id),
        [b.id, a.id],
      );
      const all = chargeListSchema.parse((await call(gateway.url, 'GET', gatewayPaths.charges)).body).charges;
      assert.deepEqual(
        all.slice(0, 2).map((listedCharge) => listedCharge.id),
        [b.id, a.id],
      );
      assertProblem(
        await call(gateway.url, 'GET', `${gatewayPaths.charges}?order=${first.orderId}`),
        400,
        'invalid_request',
      );
      assertProblem(await call(gateway.url, 'GET', gatewayPaths.charge('ch_nope')), 404, 'not_found');
    });
  });

  describe('refunds', () => {
    async function succeededCharge(token: string = gatewayTestTokens.approved): Promise<Charge> {
      const answer = await charge(newKey(), chargeRequest({ token }));
      return chargeSchema.parse(answer.status === 402 ? (answer.body as PartnerProblem).charge : answer.body);
    }
    const refundRows = (chargeId: string) =>
      query(databaseFile, 'SELECT id FROM refunds WHERE charge_id = ?', [chargeId]);

    test('a full refund: 201, the charge refunded; the same key replays; a new key is refused', async () => {
      const made = await succeededCharge();
      const key = newKey('refund');
      const first = await refund(key, made.id);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const refunded = refundSchema.parse(first.body);
      assert.deepEqual(
        { ...refunded, id: 'x', createdAt: 'x' },
        { id: 'x', createdAt: 'x', chargeId: made.id, amountCents: made.amountCents },
      );
      assert.equal(
        chargeSchema.parse((await call(gateway.url, 'GET', gatewayPaths.charge(made.id))).body).refundedCents,
        made.amountCents,
      );

      const again = await refund(key, made.id);
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      assert.equal(replayed(again), true);

      assertProblem(await refund(newKey('refund'), made.id), 422, 'charge_already_refunded');
      assert.deepEqual(
        (await refundRows(made.id)).map((row) => row.id),
        [refunded.id],
      );
    });

    test('refunds racing with different keys: one refund row, the others refused', async () => {
      const made = await succeededCharge();
      const answers = await Promise.all(Array.from({ length: 10 }, () => refund(newKey('refund'), made.id)));
      assert.equal(answers.filter((answer) => answer.status === 201).length, 1);
      for (const answer of answers.filter((candidate) => candidate.status !== 201)) {
        assertProblem(answer, 422, 'charge_already_refunded');
      }
      assert.equal((await refundRows(made.id)).length, 1);
    });

    test('an unknown charge: 404; a declined charge: 422 charge_not_refundable', async () => {
      assertProblem(await refund(newKey(), 'ch_unknown'), 404, 'not_found');
      const declined = await succeededCharge(gatewayTestTokens.declined);
      assert.equal(declined.status, 'declined');
      assertProblem(await refund(newKey(), declined.id), 422, 'charge_not_refundable');
      assert.equal((await refundRows(declined.id)).length, 0);
    });

    test('tok_refund_rejected: 422 refund_rejected, not stored (a retry with the key asks the issuer again); nothing refunded', async () => {
      const made = await succeededCharge(gatewayTestTokens.refundRejected);
      const key = newKey('refund');
      const first = await refund(key, made.id);
      assertProblem(first, 422, 'refund_rejected');
      const again = await refund(key, made.id);
      assertProblem(again, 422, 'refund_rejected');
      assert.equal(replayed(again), false);
      assertProblem(await refund(newKey('refund'), made.id), 422, 'refund_rejected');
      assert.equal((await refundRows(made.id)).length, 0);
      assert.deepEqual(
        (await chargeRows(databaseFile, made.orderId)).map((row) => row.refunded_cents),
        [0],
      );
    });
  });

  describe('bad input is a 4xx problem, never stored', () => {
    test('Idempotency-Key missing, too long or not printable ASCII: 400', async () => {
      assertProblem(await charge(null, chargeRequest()), 400, 'invalid_request');
      assertProblem(await charge('k'.repeat(256), chargeRequest()), 400, 'invalid_request');
      assertProblem(await charge('clé', chargeRequest()), 400, 'invalid_request');
      assert.equal((await charge('k'.repeat(255), chargeRequest())).status, 201);
    });

    test('an invalid body: 400 naming the field; the key then serves a valid request', async () => {
      const key = newKey();
      const request = chargeRequest();
      const problem = assertProblem(await charge(key, { ...request, amountCents: -5 }), 400, 'invalid_request');
      assert.match(problem.detail, /amountCents/);
      assertProblem(await charge(key, { ...request, extra: 1 }), 400, 'invalid_request');
      assertProblem(await charge(key, { ...request, currency: 'usd' }), 400, 'invalid_request');
      const made = await charge(key, request);
      assert.equal(made.status, 201);
      assert.equal(replayed(made), false);
    });

    test('malformed JSON 400, another content type 415, a huge body 413, an unknown route 404', async () => {
      const post = (options: CallOptions) =>
        call(gateway.url, 'POST', gatewayPaths.charges, { key: newKey(), ...options });
      assertProblem(await post({ rawBody: '{"amountCents": 1,' }), 400, 'invalid_request');
      assertProblem(
        await post({ rawBody: 'amountCents=1', contentType: 'application/x-www-form-urlencoded' }),
        415,
        'unsupported_media_type',
      );
      assertProblem(
        await post({ rawBody: JSON.stringify(chargeRequest()), contentType: null }),
        415,
        'unsupported_media_type',
      );
      assertProblem(await post({ body: { ...chargeRequest(), token: 'x'.repeat(100_000) } }), 413, 'request_too_large');
      assertProblem(await call(gateway.url, 'GET', '/v1/nothing'), 404, 'not_found');
      assertProblem(await call(gateway.url, 'DELETE', gatewayPaths.charges), 404, 'not_found');
      assertProblem(await call(gateway.url, 'GET', '/v1/charges/%E0%A4%A'), 400, 'invalid_request');
      assert.equal(
        (await query(databaseFile, `SELECT key FROM idempotency_keys WHERE state = 'in_progress'`)).length,
        0,
      );
    });
  });

  describe('fault controls', () => {
    after(() => setFaults({}));

    test('down: 503 for the API, while /health and the controls answer; up again', async () => {
      assert.deepEqual(await setFaults({ down: true }), { down: true, latencyMs: 0, failureRate: 0 });
      const request = chargeRequest();
      const key = newKey();
      assertProblem(await charge(key, request), 503, 'unavailable');
      assertProblem(await call(gateway.url, 'GET', gatewayPaths.charges), 503, 'unavailable');
      const health = await call(gateway.url, 'GET', gatewayPaths.health);
      assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
      const read = await call(gateway.url, 'GET', gatewayPaths.faults);
      assert.deepEqual(read.body, { down: true, latencyMs: 0, failureRate: 0 });

      await setFaults({});
      const made = await charge(key, request);
      assert.equal(made.status, 201, 'the 503 was not stored under the key');
      assert.equal(replayed(made), false);
    });

    test('failureRate 1: every request 503 before anything is done; a retry with the key is handled afresh', async () => {
      await setFaults({ failureRate: 1 });
      const request = chargeRequest();
      const key = newKey();
      for (let attempt = 0; attempt < 3; attempt += 1) assertProblem(await charge(key, request), 503, 'unavailable');
      assert.equal((await chargeRows(databaseFile, request.orderId)).length, 0);
      await setFaults({ failureRate: 0 });
      const made = await charge(key, request);
      assert.equal(made.status, 201);
      assert.equal(replayed(made), false);
    });

    test('latencyMs delays each answer; a caller that gives up meanwhile has nothing done', async () => {
      await setFaults({ latencyMs: 400 });
      const slow = await charge(newKey(), chargeRequest());
      assert.equal(slow.status, 201);
      assert.ok(slow.ms >= 390, `answered after ${slow.ms} ms`);
      const health = await call(gateway.url, 'GET', gatewayPaths.health);
      assert.ok(health.ms < 300, 'health is not delayed');

      const abandoned = chargeRequest();
      await assert.rejects(charge(newKey(), abandoned, AbortSignal.timeout(100)), { name: 'TimeoutError' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal((await chargeRows(databaseFile, abandoned.orderId)).length, 0);
      await setFaults({});
    });

    test('invalid fault settings: 400 or 415, and the faults stay as they were', async () => {
      await setFaults({ latencyMs: 5 });
      for (const body of [{ latencyMs: -1 }, { failureRate: 2 }, { down: 'yes' }, { slow: true }]) {
        assertProblem(await call(gateway.url, 'PUT', gatewayPaths.faults, { body }), 400, 'invalid_request');
      }
      assertProblem(
        await call(gateway.url, 'PUT', gatewayPaths.faults, { rawBody: 'down=true', contentType: 'text/plain' }),
        415,
        'unsupported_media_type',
      );
      assert.deepEqual((await call(gateway.url, 'GET', gatewayPaths.faults)).body, {
        down: false,
        latencyMs: 5,
        failureRate: 0,
      });
    });

    test('only loopback callers reach the controls', () => {
      for (const address of ['127.0.0.1', '127.10.0.3', '::1', '::ffff:127.0.0.1'])
        assert.equal(isLoopbackAddress(address), true, address);
      for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.127', 'fe80::1', '::', '', undefined]) {
        assert.equal(isLoopbackAddress(address), false, String(address));
      }
    });
  });
});

describe('shipping carrier', () => {
  const faults = createFaultSwitch();
  let carrier: Listening;
  before(async () => {
    carrier = await listen(createCarrierApp(faults));
  });
  after(() => carrier?.close());

  const rates = (query: Record<string, string> | string) =>
    call(carrier.url, 'GET', `${carrierPaths.rates}?${new URLSearchParams(query).toString()}`);

  test('a quote: base plus per item, 30% more outside the US, the same price every time', async () => {
    const domestic = await rates({ postalCode: '94103', country: 'US', itemCount: '2' });
    assert.equal(domestic.status, 200, JSON.stringify(domestic.body));
    const quote = rateQuoteSchema.parse(domestic.body);
    assert.deepEqual(
      { ...quote, quoteId: 'x' },
      { quoteId: 'x', carrier: 'Parcelwise', service: 'ground', amountCents: 799, currency: 'USD' },
    );
    const abroad = rateQuoteSchema.parse((await rates({ postalCode: 'N1 9GU', country: 'GB', itemCount: '3' })).body);
    assert.equal(abroad.amountCents, 1234); // (499 + 3 × 150) × 1.3, rounded
    const again = rateQuoteSchema.parse((await rates({ postalCode: 'N1 9GU', country: 'GB', itemCount: '3' })).body);
    assert.equal(again.amountCents, abroad.amountCents);
    assert.notEqual(again.quoteId, abroad.quoteId);
  });

  test(`postal code ${undeliverablePostalCode}: 422 undeliverable`, async () => {
    assertProblem(
      await rates({ postalCode: undeliverablePostalCode, country: 'US', itemCount: '1' }),
      422,
      'undeliverable',
    );
  });

  test('an invalid query: 400 invalid_request', async () => {
    const badQueries: Record<string, string>[] = [
      { postalCode: '94103', country: 'US', itemCount: 'abc' },
      { postalCode: '94103', country: 'US', itemCount: '0' },
      { postalCode: '94103', country: 'US', itemCount: '1e3' },
      { postalCode: '94103', country: 'US', itemCount: '10001' },
      { postalCode: '94103', country: 'us', itemCount: '1' },
      { postalCode: '', country: 'US', itemCount: '1' },
      { postalCode: '94103', itemCount: '1' },
      { postalCode: '94103', country: 'US', itemCount: '1', weight: '3' },
    ];
    for (const bad of badQueries) {
      assertProblem(await rates(bad), 400, 'invalid_request');
    }
    assertProblem(await rates('postalCode=1&postalCode=2&country=US&itemCount=1'), 400, 'invalid_request');
    assertProblem(await call(carrier.url, 'POST', carrierPaths.rates, { body: {} }), 404, 'not_found');
  });

  test('faults: down answers 503 but /health; failureRate 1 answers 503', async () => {
    faults.current = partnerFaultsSchema.parse({ down: true });
    assertProblem(await rates({ postalCode: '94103', country: 'US', itemCount: '1' }), 503, 'unavailable');
    assert.equal((await call(carrier.url, 'GET', carrierPaths.health)).status, 200);
    const put = await call(carrier.url, 'PUT', carrierPaths.faults, { body: { failureRate: 1 } });
    assert.deepEqual(put.body, { down: false, latencyMs: 0, failureRate: 1 });
    assertProblem(await rates({ postalCode: '94103', country: 'US', itemCount: '1' }), 503, 'unavailable');
    faults.current = partnerFaultsSchema.parse({});
    assert.equal((await rates({ postalCode: '94103', country: 'US', itemCount: '1' })).status, 200);
  });
});

describe('partner configuration', () => {
  test('defaults: loopback, the default ports, data/gateway.db under the project root, no faults', () => {
    const gateway = loadGatewayConfig({});
    assert.deepEqual(gateway, {
      host: '127.0.0.1',
      port: defaultGatewayPort,
      databaseUrl: `file:${path.join(projectRoot, 'data', 'gateway.db')}`,
      faults: { down: false, latencyMs: 0, failureRate: 0 },
      logLevel: 'info',
    });
    assert.deepEqual(loadCarrierConfig({}), {
      host: '127.0.0.1',
      port: defaultCarrierPort,
      faults: { down: false, latencyMs: 0, failureRate: 0 },
      logLevel: 'info',
    });
  });

  test('values from the environment; a relative database path resolves against the project root', () => {
    const gateway = loadGatewayConfig({
      GATEWAY_PORT: '5010',
      GATEWAY_DATABASE_URL: 'file:tmp/gw.db',
      GATEWAY_LATENCY_MS: '250',
      GATEWAY_FAILURE_RATE: '0.5',
    });
    assert.equal(gateway.port, 5010);
    assert.equal(gateway.databaseUrl, `file:${path.join(projectRoot, 'tmp', 'gw.db')}`);
    assert.deepEqual(gateway.faults, { down: false, latencyMs: 250, failureRate: 0.5 });
    assert.deepEqual(loadCarrierConfig({ CARRIER_LATENCY_MS: '10', CARRIER_PORT: '0' }).faults.latencyMs, 10);
  });

  test('an invalid variable is named in the error', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ GATEWAY_PORT: 'http' }, /GATEWAY_PORT/],
      [{ GATEWAY_PORT: '70000' }, /GATEWAY_PORT/],
      [{ GATEWAY_DATABASE_URL: 'postgresql://x/y' }, /GATEWAY_DATABASE_URL/],
      [{ GATEWAY_FAILURE_RATE: '2' }, /GATEWAY_FAILURE_RATE/],
      [{ GATEWAY_LATENCY_MS: '-1' }, /GATEWAY_LATENCY_MS/],
    ];
    for (const [env, variable] of cases) {
      assert.throws(
        () => loadGatewayConfig(env),
        (error: unknown) => error instanceof PartnerConfigError && variable.test(error.message),
      );
    }
    assert.throws(() => loadCarrierConfig({ CARRIER_FAILURE_RATE: 'often' }), /CARRIER_FAILURE_RATE/);
  });
});

describe('partner processes', () => {
  /** Starts an entry point on a free port and reads its URL from its "listening" log line. */
  async function launch(name: string, script: string, env: NodeJS.ProcessEnv) {
    const lines: string[] = [];
    let announce: (url: string) => void = () => undefined;
    const listening = new Promise<string>((resolve) => {
      announce = resolve;
    });
    const child: ServiceProcess = launchServiceProcess({
      name,
      script,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      onLine: (line) => {
        lines.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === `${name} listening` && entry.url) announce(entry.url);
        } catch {
          // Not a log line (a stack trace, say): kept for the failure message.
        }
      },
    });
    const startTimeout = AbortSignal.timeout(30_000);
    const url = await Promise.race([
      Promise.all([listening, child.ready]).then(([announced]) => announced),
      child.closed.then(({ code }) => Promise.reject(new Error(`${name} exited with ${code}:\n${lines.join('\n')}`))),
      new Promise<never>((_resolve, reject) =>
        startTimeout.addEventListener('abort', () => reject(new Error(`${name} did not start:\n${lines.join('\n')}`))),
      ),
    ]);
    return { child, url, lines };
  }

  test(
    'the gateway process: a charge survives a restart; the same key replays it, nothing charged twice',
    { timeout: 90_000 },
    async () => {
      const databaseFile = newDatabaseFile();
      const env = { GATEWAY_PORT: '0', GATEWAY_DATABASE_URL: `file:${databaseFile}` };
      const request = chargeRequest();
      const key = newKey('restart');

      const first = await launch('gateway', 'simulators/gateway/main.ts', env);
      let firstAnswer: Answer;
      try {
        firstAnswer = await call(first.url, 'POST', gatewayPaths.charges, { key, body: request });
        assert.equal(firstAnswer.status, 201, JSON.stringify(firstAnswer.body));
      } finally {
        await first.child.stop();
      }
      assert.deepEqual(await first.child.closed, { code: 0, signal: null }, first.lines.join('\n'));
      assert.ok(first.lines.some((line) => line.includes('gateway stopped')));

      const second = await launch('gateway', 'simulators/gateway/main.ts', env);
      try {
        const again = await call(second.url, 'POST', gatewayPaths.charges, { key, body: request });
        assert.equal(again.status, 201);
        assert.deepEqual(again.body, firstAnswer.body);
        assert.equal(replayed(again), true);
        assertProblem(
          await call(second.url, 'POST', gatewayPaths.charges, { key, body: { ...request, amountCents: 1 } }),
          422,
          'idempotency_key_reused',
        );
      } finally {
        await second.child.stop();
      }
      assert.equal((await chargeRows(databaseFile, request.orderId)).length, 1);
    },
  );

  test('the carrier process answers a quote and stops on SIGTERM', { timeout: 60_000 }, async () => {
    const carrier = await launch('carrier', 'simulators/carrier/main.ts', { CARRIER_PORT: '0' });
    try {
      const answer = await call(carrier.url, 'GET', `${carrierPaths.rates}?postalCode=94103&country=US&itemCount=1`);
      assert.equal(rateQuoteSchema.parse(answer.body).amountCents, 649);
    } finally {
      await carrier.child.stop();
    }
    assert.deepEqual(await carrier.child.closed, { code: 0, signal: null });
  });

  test('a bad variable stops the process at once, naming it', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const child = launchServiceProcess({
      name: 'gateway',
      script: 'simulators/gateway/main.ts',
      env: { ...process.env, GATEWAY_PORT: 'http' },
      onLine: (line) => lines.push(line),
    });
    assert.deepEqual(await child.closed, { code: 1, signal: null });
    assert.match(lines.join('\n'), /GATEWAY_PORT/);
  });
});
