import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect, promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { idempotencyKeyHeader } from '../../src/api/schemas';
import { loadContext } from '../../scripts/compose-check/context';
import { diskFiles } from '../../scripts/compose-check/files';
import { checkPayloadEncryption } from '../../scripts/compose-check/rules/payload-encryption';
import { createCodecApp } from '../../src/codec-server/app';
import { ConfigError, loadConfig, projectRoot } from '../../src/config';
import { createDataConverter, payloadCodecFromConfig } from '../../src/temporal/data-converter';
import { developmentKeyEntries, newKeyEntry } from '../../src/temporal/encryption-keys';
import { orderWorkflowId } from '../../src/temporal/names';
import { resolveDevServerExecutable, setupCommand } from '../../tooling/temporal/servers';
import {
  EncryptionCodec,
  PayloadDecryptionError,
  encryptedEncoding,
  keyIdMetadataKey,
} from '../../src/temporal/payload-codec';
import { finalStatuses, getOrderState, type OrderSagaState } from '../../src/workflows/definitions';
import { startTestCodecServer, testPayloadEncryption } from '../support/codec';
import { startStack, type Stack } from '../support/stack';

/**
 * Payload encryption (issue 7, sensitive data): the codec, its keys and their rotation, the codec server the Web UI
 * decodes with, the processes' refusal to start without a key, and, on the real stack, a raw history that holds
 * no address, recipient or payment token in plain text.
 */

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString();
const jsonPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const codecOf = (...entries: string[]) => payloadCodecFromConfig(testPayloadEncryption(...entries));
const secretOrder = { recipient: 'Grace Hopper', line1: '7 Cobol Lane', token: 'tok_private_4242' };

describe('the encryption codec', () => {
  test('round trip: the payload goes out sealed under the current key and comes back as it was', async () => {
    const codec = codecOf(newKeyEntry('current'), newKeyEntry('older'));
    const payload = jsonPayload(secretOrder);
    const [sealed] = await codec.encode([payload]);
    assert.ok(sealed);
    assert.equal(text(sealed.metadata?.encoding), encryptedEncoding);
    assert.equal(text(sealed.metadata?.[keyIdMetadataKey]), 'current');
    for (const secret of Object.values(secretOrder)) assert.ok(!Buffer.from(sealed.data!).includes(secret));
    // The original encoding is sealed too: nothing says it was JSON.
    assert.ok(!Object.values(sealed.metadata ?? {}).some((value) => text(value).includes('json')));
    const [opened] = await codec.decode([sealed]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), secretOrder);
    assert.equal(text(opened!.metadata?.encoding), 'json/plain');
    // A fresh IV per payload: the same value never gives the same ciphertext.
    const [again] = await codec.encode([payload]);
    assert.notDeepEqual(Buffer.from(again!.data!), Buffer.from(sealed.data!));
  });

  test('rotation: a payload sealed under the old key still opens once a new key is current', async () => {
    const old = newKeyEntry('2024-q1');
    const [sealedBefore] = await codecOf(old).encode([jsonPayload(secretOrder)]);
    const rotated = codecOf(newKeyEntry('2024-q2'), old);
    const [sealedAfter] = await rotated.encode([jsonPayload('new')]);
    assert.equal(text(sealedAfter!.metadata?.[keyIdMetadataKey]), '2024-q2');
    const opened = await rotated.decode([sealedBefore!, sealedAfter!]);
    assert.deepEqual(
      opened.map((payload) => defaultPayloadConverter.fromPayload(payload)),
      [secretOrder, 'new'],
    );
  });

  test('a payload under a key that is not configured fails with an error naming the key id', async () => {
    const [sealed] = await codecOf(newKeyEntry('retired-key')).encode([jsonPayload(secretOrder)]);
    const error = await codecOf(newKeyEntry('k2'), newKeyEntry('k3'))
      .decode([sealed!])
      .then(
        () => assert.fail('decoded without its key'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof PayloadDecryptionError);
    assert.equal(error.keyId, 'retired-key');
    assert.equal(error.reason, 'unknown-key');
    assert.match(
      error.message,
      /key "retired-key", which is not configured \(PAYLOAD_ENCRYPTION_KEYS has "k2", "k3"\)/,
    );
  });

  test('tampered ciphertext, a swapped key label or a truncated payload fail authentication', async () => {
    const first = newKeyEntry('first');
    const second = newKeyEntry('second');
    const codec = codecOf(first, second);
    const [sealed] = await codec.encode([jsonPayload(secretOrder)]);
    const flipped = Buffer.from(sealed!.data!);
    flipped[20] = flipped[20]! ^ 0x01;
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [keyIdMetadataKey]: Buffer.from('second') } };
    for (const [payload, reason] of [
      [{ ...sealed!, data: flipped }, 'not-authentic'],
      [relabelled, 'not-authentic'],
      [{ ...sealed!, data: flipped.subarray(0, 10) }, 'malformed'],
    ] as const) {
      await assert.rejects(codec.decode([payload]), (error: unknown) => {
        assert.ok(error instanceof PayloadDecryptionError);
        assert.equal(error.reason, reason);
        return true;
      });
    }
  });

  test('payloads that are not encrypted (older histories) pass through unchanged', async () => {
    const codec = codecOf(newKeyEntry());
    const plain = [jsonPayload(secretOrder), defaultPayloadConverter.toPayload(undefined)];
    const decoded = await codec.decode(plain);
    assert.equal(decoded[0], plain[0]);
    assert.equal(decoded[1], plain[1]);
  });

  test('PAYLOAD_ENCRYPTION=off stops encrypting but still decrypts what was encrypted before', async () => {
    const key = newKeyEntry('was-on');
    const [sealed] = await codecOf(key).encode([jsonPayload(secretOrder)]);
    const off = payloadCodecFromConfig(
      loadConfig({ PAYLOAD_ENCRYPTION: 'off', PAYLOAD_ENCRYPTION_KEYS: key }).payloadEncryption,
    );
    const plain = jsonPayload('plain');
    assert.deepEqual(await off.encode([plain]), [plain]);
    assert.deepEqual(defaultPayloadConverter.fromPayload((await off.decode([sealed!]))[0]!), secretOrder);
    // Off and no key at all: allowed, and nothing is encrypted.
    const bare = createDataConverter(loadConfig({ PAYLOAD_ENCRYPTION: 'off' }).payloadEncryption);
    assert.deepEqual(await bare.payloadCodecs![0]!.encode([plain]), [plain]);
  });
});

describe('keys in the configuration', () => {
  test('several keys, the first current; key material never shows in JSON or inspect', () => {
    const current = newKeyEntry('current');
    const old = newKeyEntry('old');
    const { keyring, mode } = loadConfig({ PAYLOAD_ENCRYPTION_KEYS: ` ${current} , ${old} ` }).payloadEncryption;
    assert.equal(mode, 'on');
    assert.equal(keyring.currentKeyId, 'current');
    assert.deepEqual(keyring.keyIds, ['current', 'old']);
    const material = current.split(':')[1]!;
    for (const shown of [JSON.stringify({ keyring }), inspect({ keyring }, { depth: 5 })]) {
      assert.ok(!shown.includes(material), shown);
    }
  });

  test('invalid entries are named by position, without repeating the key', () => {
    const shortKey = randomBytes(16).toString('base64');
    const valid = newKeyEntry('dup');
    for (const [value, pattern] of [
      [`k1:${shortKey}`, /entry 1 \(k1\): the key must be 32 random bytes in base64/],
      ['no-colon-here', /entry 1 is not <keyId>:<base64 key>/],
      [`bad id:${randomBytes(32).toString('base64')}`, /entry 1 is not <keyId>:<base64 key>/],
      [`${valid},${valid}`, /entry 2 \(dup\): the same key id is configured twice/],
    ] as const) {
      assert.throws(
        () => loadConfig({ PAYLOAD_ENCRYPTION_KEYS: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, pattern);
          assert.ok(!error.message.includes(shortKey) && !error.message.includes(valid.split(':')[1]!));
          return true;
        },
      );
    }
    assert.throws(() => loadConfig({ PAYLOAD_ENCRYPTION: 'maybe' }), /PAYLOAD_ENCRYPTION/);
  });

  test('encryption is on by default: no key, no data converter, and the message says how to make one', () => {
    assert.throws(
      () => createDataConverter(loadConfig({}).payloadEncryption),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.doesNotMatch(error.message, /\n/);
        assert.match(error.message, /npm run keys:new/);
        assert.match(error.message, /PAYLOAD_ENCRYPTION=off/);
        return true;
      },
    );
  });

  test("npm start's development key is made once and read back afterwards", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'order-saga-keys-'));
    try {
      const file = path.join(dir, 'data', 'payload-encryption-keys');
      const made = developmentKeyEntries(file);
      assert.equal(made.created, true);
      const again = developmentKeyEntries(file);
      assert.deepEqual(again, { entries: made.entries, created: false });
      assert.equal(loadConfig({ PAYLOAD_ENCRYPTION_KEYS: again.entries }).payloadEncryption.keyring.size, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the processes that talk to Temporal refuse to start without a key, in one line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'order-saga-nokey-'));
    try {
      const env = {
        ...process.env,
        PAYLOAD_ENCRYPTION_KEYS: '',
        PAYLOAD_ENCRYPTION: 'on',
        API_PORT: '0',
        CODEC_SERVER_PORT: '0',
        ORDERS_WORKER_STATUS_PORT: '0',
        ...Object.fromEntries(
          ['ORDERS', 'INVENTORY', 'PAYMENTS', 'SHIPPING', 'VIEWS'].map((name) => [
            `${name}_DATABASE_URL`,
            `file:${path.join(dir, `${name.toLowerCase()}.db`)}`,
          ]),
        ),
      };
      for (const [script, ...args] of [
        ['src/api/server.ts'],
        ['src/workers/main.ts', 'orders'],
        ['src/codec-server/main.ts'],
        ['scripts/new-payload-key.ts', 'bad id!'],
      ]) {
        const failed = await promisify(execFile)(process.execPath, ['--import', 'tsx', script!, ...args], {
          cwd: projectRoot,
          env,
          timeout: 60_000,
        }).then(
          () => assert.fail(`${script} started without a key`),
          (error: unknown) => error as { code?: number; stderr: string; killed?: boolean },
        );
        assert.equal(failed.killed, false, `${script} was still running after 60 s`);
        assert.notEqual(failed.code, 0);
        if (script === 'scripts/new-payload-key.ts') continue;
        assert.match(failed.stderr, /^PAYLOAD_ENCRYPTION_KEYS is not set[^\n]*npm run keys:new[^\n]*$/m, script);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the codec server', () => {
  const uiOrigin = 'http://localhost:8233';
  const key = newKeyEntry('server-key');
  let server: Server;
  let baseUrl: string;

  before(async () => {
    const app = createCodecApp({
      codec: codecOf(key),
      allowedOrigins: [uiOrigin],
      namespace: 'default',
      logger: pino({ level: 'silent' }),
    });
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const asJson = (payload: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(payload.data!).toString('base64'),
  });
  type JsonPayloads = { payloads: { metadata: Record<string, string>; data?: string }[] };

  async function assertProblem(response: Response, status: number, detail: RegExp): Promise<void> {
    const body = await response.text();
    assert.equal(response.status, status, body);
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const problem = JSON.parse(body) as { status: number; detail: string };
    assert.equal(problem.status, status);
    assert.match(problem.detail, detail);
    assert.doesNotMatch(body, /\bat .+\.(ts|js):\d+/, 'no stack trace');
  }

  test('encode then decode over HTTP, in the remote codec format, under any path prefix', async () => {
    const encoded = await post('/encode', { payloads: [asJson(jsonPayload(secretOrder))] });
    assert.equal(encoded.status, 200);
    const sealed = (await encoded.json()) as JsonPayloads;
    assert.equal(Buffer.from(sealed.payloads[0]!.metadata.encoding!, 'base64').toString(), encryptedEncoding);
    assert.ok(!Buffer.from(sealed.payloads[0]!.data!, 'base64').includes(secretOrder.line1));

    const decoded = await post('/default/decode', sealed);
    assert.equal(decoded.status, 200);
    const [plain] = ((await decoded.json()) as JsonPayloads).payloads;
    assert.deepEqual(JSON.parse(Buffer.from(plain!.data!, 'base64').toString()), secretOrder);
    assert.equal(Buffer.from(plain!.metadata.encoding!, 'base64').toString(), 'json/plain');
  });

  test("CORS: the Web UI's preflight and requests are allowed, other origins are not", async () => {
    const preflight = await fetch(`${baseUrl}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: uiOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,authorization',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), uiOrigin);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    const allowedHeaders = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['content-type', 'x-namespace', 'authorization']) assert.ok(allowedHeaders.includes(header));
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');

    const decoded = await post('/decode', { payloads: [] }, { origin: uiOrigin });
    assert.equal(decoded.status, 200);
    assert.equal(decoded.headers.get('access-control-allow-origin'), uiOrigin);
    assert.deepEqual(await decoded.json(), { payloads: [] });

    const foreign = await fetch(`${baseUrl}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    await assertProblem(foreign, 403, /evil\.example is not in CODEC_SERVER_CORS_ORIGINS/);
  });

  test('an empty X-Namespace, as the Temporal CLI sends without --namespace, means the default namespace', async () => {
    const decoded = await post('/decode', { payloads: [] }, { 'x-namespace': '' });
    assert.equal(decoded.status, 200, await decoded.clone().text());
    assert.deepEqual(await decoded.json(), { payloads: [] });

    // A server for another namespace: empty is not a wildcard, it names `default`, whose keys it does not hold.
    const shop = await startTestCodecServer(testPayloadEncryption(key), { uiPort: 8233, namespace: 'shop' });
    try {
      const refused = await fetch(`${shop.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': '' },
        body: JSON.stringify({ payloads: [] }),
      });
      await assertProblem(refused, 403, /namespace shop only; an empty X-Namespace .* means namespace default/);
    } finally {
      await shop.close();
    }
  });

  test('`{}` is no payloads, as protobuf JSON writes an empty list (the CLI encodes a query without arguments so)', async () => {
    for (const operation of ['/encode', '/decode']) {
      const response = await post(operation, {});
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual(await response.json(), { payloads: [] });
    }
  });

  test('bad requests get a 4xx problem, never a stack trace', async () => {
    await assertProblem(await post('/decode', { payloads: 'nope' }), 400, /"payloads"/);
    await assertProblem(await post('/decode', '{"payloads": ['), 400, /not valid JSON/);
    await assertProblem(await post('/decode', { payloads: [{ data: '***' }] }), 400, /base64/);
    await assertProblem(await post('/decode', { payloads: [] }, { 'content-type': 'text/plain' }), 415, /json/);
    await assertProblem(await post('/decode', { payloads: [] }, { 'x-namespace': 'other' }), 403, /default only/);
    await assertProblem(await fetch(`${baseUrl}/decode`), 404, /POST/);

    const [foreign] = await codecOf(newKeyEntry('not-here')).encode([jsonPayload(secretOrder)]);
    await assertProblem(await post('/decode', { payloads: [asJson(foreign!)] }), 422, /key "not-here"/);
    const [ours] = await codecOf(key).encode([jsonPayload(secretOrder)]);
    const tampered = asJson(ours!);
    tampered.data = Buffer.from(
      Buffer.from(tampered.data, 'base64').map((byte, i) => (i === 30 ? byte ^ 1 : byte)),
    ).toString('base64');
    await assertProblem(await post('/decode', { payloads: [tampered] }), 422, /failed authentication/);
  });
});

describe('on the running system (SQLite)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack('sqlite');
  });
  after(() => stack?.stop());

  const unique = randomUUID().slice(0, 8);
  const order = {
    customerId: 'cus_codec',
    items: [{ sku: 'SKU-MUG', quantity: 1 }],
    payment: { token: `tok_private_${unique}` },
    shippingAddress: {
      recipient: `Grace Hopper ${unique}`,
      line1: `${unique} Cobol Lane`,
      city: 'Arlington',
      postalCode: '22201',
      country: 'US',
    },
  };
  const secrets = [order.shippingAddress.line1, order.shippingAddress.recipient, order.payment.token];

  /** Every Payload-shaped object in a decoded protobuf message (inputs, results, memo fields, headers, details). */
  /**
   * What the SDK writes without the codec, so must never carry personal data: search attributes (Temporal indexes
   * them), headers (the request id the interceptors propagate) and its own markers (a patch's id). The raw check
   * above covers them too.
   */
  const writtenReadable = new Set(['searchAttributes', 'header', 'markerRecordedEventAttributes']);

  function payloadsIn(value: unknown, where = '', found: { where: string; payload: Payload }[] = []) {
    if (Array.isArray(value)) value.forEach((item, index) => payloadsIn(item, `${where}[${index}]`, found));
    else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
      if ('metadata' in value && 'data' in value && (value as Payload).metadata?.encoding) {
        found.push({ where, payload: value as Payload });
      } else {
        for (const [key, child] of Object.entries(value)) {
          if (!writtenReadable.has(key)) payloadsIn(child, `${where}.${key}`, found);
        }
      }
    }
    return found;
  }

  /**
   * The CLI's JSON output with each payload's data (base64) shown as text, as its text output would: what a person
   * reading the history sees.
   */
  const withPayloadData = (cliJson: string) =>
    cliJson.replace(/"(data|encoding)": "([A-Za-z0-9+/=]*)"/g, (_, field: string, value: string) =>
      JSON.stringify({ [field]: Buffer.from(value, 'base64').toString() }),
    );

  /** Places `order` and waits until its saga has confirmed it; the order's id. */
  async function placeConfirmedOrder(): Promise<string> {
    const placed = await fetch(`${stack.baseUrl}/orders`, {
      method: 'POST',
      // Without waiting for the acceptance, which a loaded machine can push past the API's 5 s.
      headers: { 'content-type': 'application/json', [idempotencyKeyHeader]: randomUUID(), prefer: 'respond-async' },
      body: JSON.stringify(order),
    });
    assert.equal(placed.status, 202, await placed.clone().text());
    const { orderId } = (await placed.json()) as { orderId: string };
    let state: OrderSagaState | undefined;
    for (let attempt = 0; attempt < 600 && !(state && finalStatuses.includes(state.status)); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      state = (await (await fetch(`${stack.baseUrl}/orders/${orderId}`)).json()) as OrderSagaState;
    }
    assert.equal(state?.status, 'confirmed');
    return orderId;
  }

  test(
    'a placed order leaves no address, recipient or payment token in the raw history; the converter reads them',
    { timeout: 240_000 },
    async () => {
      const orderId = await placeConfirmedOrder();

      // Raw: the server's own answers, through no data converter.
      const namespace = stack.temporal.namespace ?? 'default';
      const execution = { workflowId: orderWorkflowId(orderId) };
      const { History } = proto.temporal.api.history.v1;
      const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
      let nextPageToken: Uint8Array | undefined;
      for (let page = 0; page < 50; page++) {
        const response = await stack.temporal.connection.workflowService.getWorkflowExecutionHistory({
          namespace,
          execution,
          nextPageToken,
        });
        events.push(...(response.history?.events ?? []));
        if (!response.nextPageToken?.length) break;
        nextPageToken = response.nextPageToken;
      }
      const description = await stack.temporal.connection.workflowService.describeWorkflowExecution({
        namespace,
        execution,
      });
      const raw = Buffer.concat([
        History.encode({ events }).finish(),
        proto.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(description).finish(),
      ]);
      assert.ok(events.length > 10, `the history has ${events.length} events`);
      for (const secret of secrets) {
        assert.equal(raw.includes(secret), false, `"${secret}" is in the raw history in plain text`);
        assert.equal(raw.includes(Buffer.from(secret).toString('base64')), false);
      }
      const payloads = payloadsIn(events);
      assert.ok(payloads.length > 10);
      const plainPayloads = payloads.filter(({ payload }) => text(payload.metadata?.encoding) !== encryptedEncoding);
      assert.deepEqual(
        plainPayloads.map(({ where, payload }) => `${where}: ${text(payload.metadata?.encoding)}`),
        [],
        'every payload is encrypted',
      );

      // And the keys give them back: the workflow's input, the activities' inputs.
      const decoded = await stack.dataConverter.payloadCodecs![0]!.decode(payloads.map(({ payload }) => payload));
      const plain = decoded.map((payload) => text(payload.data)).join('\n');
      for (const secret of secrets) assert.ok(plain.includes(secret), `"${secret}" is not in the decoded history`);
      assert.ok(stack.dataConverter.payloadCodecs![0] instanceof EncryptionCodec);
    },
  );

  test(
    'the Temporal CLI decodes a history and a query result through the codec server (`--codec-endpoint`)',
    { timeout: 240_000 },
    async (t) => {
      const cli = resolveDevServerExecutable().executable;
      if (cli.type !== 'existing-path') {
        t.skip(`no Temporal CLI executable to run: set TEMPORAL_CLI_PATH or run ${setupCommand}`);
        return;
      }
      const orderId = await placeConfirmedOrder();
      // As `npm start` runs it: the test process's keys, the default namespace.
      const codecServer = await startTestCodecServer(testPayloadEncryption(), { uiPort: 8233 });
      // Without --namespace, as a user types it: the CLI then sends an empty X-Namespace.
      const temporal = (...args: string[]) =>
        promisify(execFile)(cli.path, [...args, '--address', stack.temporal.address, '--output', 'json'], {
          // The CLI reads TEMPORAL_* variables (a namespace among them): none of the test machine's may leak in.
          env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_'))),
          timeout: 60_000,
        }).then(({ stdout }) => stdout);
      const workflow = ['--workflow-id', orderWorkflowId(orderId)];
      try {
        const rawHistory = withPayloadData(await temporal('workflow', 'show', ...workflow));
        const decodedHistory = withPayloadData(
          await temporal('workflow', 'show', ...workflow, '--codec-endpoint', codecServer.url),
        );
        assert.ok(rawHistory.includes(encryptedEncoding), 'the history the CLI shows without the codec is encrypted');
        assert.ok(!decodedHistory.includes(encryptedEncoding), 'a payload was left encrypted');
        for (const secret of secrets) {
          assert.equal(rawHistory.includes(secret), false, `"${secret}" is in the history without the codec`);
          assert.ok(decodedHistory.includes(secret), `"${secret}" is not in the history the CLI decoded`);
        }

        const query = ['workflow', 'query', ...workflow, '--name', getOrderState.name];
        const rawState = await temporal(...query);
        const decodedState = await temporal(...query, '--codec-endpoint', codecServer.url);
        const { queryResult } = JSON.parse(decodedState) as { queryResult: OrderSagaState[] };
        assert.equal(queryResult[0]?.orderId, orderId, decodedState);
        assert.equal(queryResult[0]?.status, 'confirmed');
        // Without the codec the CLI can only show the sealed payload.
        assert.ok(withPayloadData(rawState).includes(encryptedEncoding), rawState);
        assert.doesNotMatch(rawState, /confirmed/);
      } finally {
        await codecServer.close();
      }
    },
  );

  test(
    'an API whose keys lack the one a payload names answers a 500 problem, and the log names the key id',
    { timeout: 120_000 },
    async () => {
      const placed = await fetch(`${stack.baseUrl}/orders`, {
        method: 'POST',
        // Without waiting for the acceptance, which a loaded machine can push past the API's 5 s.
        headers: { 'content-type': 'application/json', [idempotencyKeyHeader]: randomUUID(), prefer: 'respond-async' },
        body: JSON.stringify({ ...order, payment: { token: 'tok_visa' } }),
      });
      assert.equal(placed.status, 202);
      const { orderId } = (await placed.json()) as { orderId: string };

      const lines: string[] = [];
      const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
      const wrongKeys = testPayloadEncryption(newKeyEntry('someone-elses-key'));
      const app = createApp({
        client: new Client({
          connection: stack.temporal.connection,
          namespace: stack.temporal.namespace ?? 'default',
          dataConverter: createDataConverter(wrongKeys),
        }),
        logger,
        readinessChecks: [],
        approval: { thresholdCents: 100_000, timeout: '24h' },
      });
      const server: Server = await new Promise((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      try {
        const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/orders/${orderId}`);
        const body = await response.text();
        assert.equal(response.status, 500, body);
        assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
        assert.doesNotMatch(body, /\bat .+\.(ts|js):\d+/, 'no stack trace');
        // The stack encrypts with the test process's key; this API has only someone else's.
        const stackKeyId = testPayloadEncryption().keyring.currentKeyId!;
        assert.ok(lines.join('\n').includes(`payload encrypted with key \\"${stackKeyId}\\", which is not configured`));
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});

describe('check:compose: payload encryption', () => {
  function problemsAfter(edit: (services: Record<string, Record<string, unknown>>) => void): string[] {
    const { context } = loadContext(diskFiles());
    assert.ok(context);
    const compose = structuredClone(context.compose);
    edit(compose.services as Record<string, Record<string, unknown>>);
    return checkPayloadEncryption({ ...context, compose });
  }
  const environment = (service: Record<string, unknown> | undefined) => service?.environment as Record<string, unknown>;

  test('passes on the real file, and fails on keys that differ, keys missing, or an endpoint the browser cannot reach', () => {
    assert.deepEqual(
      problemsAfter(() => undefined),
      [],
    );
    const other = newKeyEntry('other');
    assert.match(
      problemsAfter((services) => void (environment(services['codec-server']).PAYLOAD_ENCRYPTION_KEYS = other)).join(),
      /codec-server: PAYLOAD_ENCRYPTION_KEYS differs from/,
    );
    assert.match(
      problemsAfter((services) => void delete environment(services['codec-server']).PAYLOAD_ENCRYPTION_KEYS).join(),
      /codec-server: PAYLOAD_ENCRYPTION_KEYS is not set, so it would refuse to start/,
    );
    assert.match(
      problemsAfter(
        (services) => void (environment(services['temporal-ui']).TEMPORAL_CODEC_ENDPOINT = 'http://codec-server:8888'),
      ).join(),
      /names a service, but the browser calls it/,
    );
    assert.match(
      problemsAfter(
        (services) => void (environment(services['temporal-ui']).TEMPORAL_CODEC_ENDPOINT = 'http://localhost:9999'),
      ).join(),
      /no codec server here publishes port 9999/,
    );
  });
});
