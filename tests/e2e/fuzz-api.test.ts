import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { orderRequestFingerprint } from '../../src/api/placement';
import { catalogue } from '../../src/db';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { orderRequestSchema } from '../../src/domain/order';
import { orderWorkflowId } from '../../src/temporal/names';
import { orderIdFor } from '../../src/temporal/order-ids';
import { orderWorkflowType } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';

/**
 * Property-based fuzzing of the running API (real dev server, workers and
 * SQLite databases): a few thousand generated requests to every route, mostly
 * invalid (malformed JSON, wrong types, missing and extra fields, huge and
 * negative numbers, unicode and injection strings, wrong content types,
 * oversized bodies, duplicate JSON keys, odd Idempotency-Key headers).
 *
 * Each request's expected answers are computed from the documented contract
 * (README "HTTP API"; the order schema of src/domain/order.ts): a 4xx problem
 * for a client mistake (400/404/409/413/415), 201 or 202 for a valid order
 * (422 if the saga rejected it or its Idempotency-Key was first used with
 * another body), and never a 5xx.
 * Afterwards: the workflows started are exactly those of the valid
 * idempotency keys that were accepted, and the API is still up.
 *
 * Reproduce a run with FUZZ_SEED=<seed> (printed at the start and on failure);
 * FUZZ_REQUESTS changes the number of requests.
 */

const seed = Number(process.env.FUZZ_SEED ?? 20_261_121);
const requestCount = Number(process.env.FUZZ_REQUESTS ?? 2_500);
/** Requests in flight at once: one fast-check run per lane, each with its own seed. */
const lanes = 4;
/** Bounds the whole fuzzing run (shrinking included); past it the run fails as interrupted. */
const timeLimitMs = 240_000;
const requestTimeoutMs = 15_000;

/** README: "413 body over 32 kB". */
const bodyLimitBytes = 32 * 1024;
/** README: "every error is application/problem+json". */
const problemContentType = /^application\/problem\+json/;
const orderIdPattern = /^ord_[0-9a-f]{24}$/;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface FuzzCase {
  /** What the case exercises, for the figures. */
  kind: string;
  method: Method;
  path: string;
  headers: Record<string, string | string[]>;
  body?: string | Uint8Array;
  /** The statuses the documented contract allows for this request. */
  expected: number[];
  /** The Idempotency-Key the server receives, when the request is a valid order. */
  validKey?: string;
  /** The order a valid request names: its customer's, under its key. */
  orderId?: string;
  /** The valid order's fingerprint: the order's first body decides whether a repeat is 202 or 422. */
  fingerprint?: string;
}

// ---------------------------------------------------------------------------
// the contract, as a client reads it

function bytesOf(body: FuzzCase['body']): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
}

function single(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header.join(', ') : header;
}

/** The media type and charset of a Content-Type, or undefined if it is not one. */
function mediaTypeOf(header: string | undefined): { type: string; charset?: string } | undefined {
  const match = header && /^\s*([\w.+-]+\/[\w.+-]+)\s*(?:;\s*charset\s*=\s*"?([\w.-]+)"?\s*)?$/i.exec(header);
  return match ? { type: match[1]!.toLowerCase(), charset: match[2]?.toLowerCase() } : undefined;
}

/** The Idempotency-Key as the server sees it: values trimmed of spaces and tabs, repeated headers joined. */
function receivedKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  return (Array.isArray(header) ? header : [header]).map((value) => value.replace(/^[\t ]+|[\t ]+$/g, '')).join(', ');
}

const isValidKey = (key: string | undefined): key is string => key !== undefined && /^[\x21-\x7e]{1,255}$/.test(key);

type Parsed = { ok: true; value: unknown } | { ok: false };

/** A JSON body as a strict JSON parser reads it: an object or array, UTF-8, a leading BOM ignored. */
function parseJson(bytes: Buffer): Parsed {
  const text = new TextDecoder().decode(bytes);
  if (text.length === 0) return { ok: true, value: {} };
  const first = /^[\x20\t\n\r]*([^\x20\t\n\r])/.exec(text)?.[1];
  if (first !== '{' && first !== '[') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Statuses for the body of a request that must be JSON; `validBody` judges the parsed value. */
function bodyProblems(
  c: Pick<FuzzCase, 'headers' | 'body'>,
  validBody: (value: unknown) => boolean,
  { jsonRequired }: { jsonRequired: boolean },
): number[] {
  const bytes = bytesOf(c.body);
  const media = mediaTypeOf(single(c.headers['content-type']));
  const json = media?.type === 'application/json';
  if (!json) {
    if (!jsonRequired) return validBody({}) ? [] : [400];
    return bytes.length > bodyLimitBytes ? [415, 413] : [415];
  }
  if (media.charset && !media.charset.startsWith('utf-')) return [415];
  if (bytes.length > bodyLimitBytes) return [413];
  const parsed = parseJson(bytes);
  if (!parsed.ok) return [400];
  return validBody(parsed.value) ? [] : [400];
}

/** 404 for an id that cannot be an order's; a path segment that does not decode may also be 400. */
function orderIdProblems(rawId: string): number[] {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    return [400, 404];
  }
  return orderIdPattern.test(id) ? [] : [404];
}

function expectPlaceOrder(
  c: Omit<FuzzCase, 'expected'>,
): Pick<FuzzCase, 'expected' | 'validKey' | 'orderId' | 'fingerprint'> {
  const key = receivedKey(c.headers['idempotency-key']);
  const problems = bodyProblems(c, (value) => orderRequestSchema.safeParse(value).success, { jsonRequired: true });
  if (!isValidKey(key)) problems.push(400);
  if (problems.length > 0) return { expected: [...new Set(problems)] };
  const parsed = parseJson(bytesOf(c.body)) as { ok: true; value: unknown };
  const order = orderRequestSchema.parse(parsed.value);
  const fingerprint = orderRequestFingerprint(order);
  // 201 accepted, 202 still being accepted, 422 rejected by the saga (e.g. out of stock) or the key first used with
  // another body (which body came first is checked after the run), 409 cancelled before it was accepted.
  return { expected: [201, 202, 409, 422], validKey: key, orderId: orderIdFor(order.customerId, key!), fingerprint };
}

/** cancel takes an optional body; approve, reject and compensation need a JSON one. */
function expectOrderMessage(
  c: Omit<FuzzCase, 'expected'>,
  rawId: string,
  bodyValid: boolean,
): Pick<FuzzCase, 'expected'> {
  const hasBody = bytesOf(c.body).length > 0;
  const cancel = c.path.split('?')[0]!.endsWith('/cancel');
  const problems =
    cancel && !hasBody
      ? bodyValid
        ? []
        : [400]
      : bodyProblems(c, () => bodyValid, { jsonRequired: !cancel || hasBody });
  problems.push(...orderIdProblems(rawId));
  // A well-formed message to a possible order: accepted, refused in its state, or the order does not exist.
  return { expected: problems.length > 0 ? [...new Set(problems)] : [200, 202, 404, 409] };
}

// ---------------------------------------------------------------------------
// generators

const injections = [
  `'; DROP TABLE "Order"; --`,
  `" OR "1"="1`,
  `1; SELECT * FROM "Payment" WHERE 1=1`,
  '<script>alert(1)</script>',
  '${7*7}',
  '{{7*7}}',
  '../../../../etc/passwd',
  '%00',
  '\u0000',
  'a\r\nX-Injected: 1',
  '__proto__',
  'constructor',
  '{"$gt": ""}',
  '\u202eevil',
  '\u200b',
  '\ud800',
  '🧾📦🚚',
  'Ｓａｇａ',
  'e\u0301\u0301\u0301',
  'null',
  'undefined',
  'NaN',
  '\\',
  'SKU-MUG\u0000',
];

const text = fc.oneof(
  fc.string({ minLength: 1, maxLength: 24 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.constantFrom(...injections),
);

const orderableSkus = catalogue.filter((product) => product.priceCents < 10_000 && product.available > 0);

/** A valid order (or nearly: the schema decides), with odd but acceptable strings in its free-text fields. */
const usualCustomerId = 'cus_fuzz';

const validOrder = fc.record({
  customerId: fc.oneof(fc.constant(usualCustomerId), text),
  items: fc.uniqueArray(
    fc.record({ sku: fc.constantFrom(...orderableSkus.map((p) => p.sku)), quantity: fc.integer({ min: 1, max: 3 }) }),
    { minLength: 1, maxLength: 3, selector: (item) => item.sku },
  ),
  payment: fc.record({ token: fc.oneof(fc.constantFrom(paymentTokens.approved, paymentTokens.declined), text) }),
  shippingAddress: fc.record({
    recipient: fc.oneof(fc.constant('Ada Lovelace'), text),
    line1: fc.oneof(fc.constant('12 Analytical Row'), text),
    city: fc.oneof(fc.constant('London'), text),
    postalCode: fc.oneof(fc.constant('N1 9GU'), text),
    country: fc.constantFrom('GB', 'US', 'FR'),
  }),
});
type OrderBody = Record<string, unknown>;

const hugeOrNegative = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 0 }),
  fc.integer({ min: 101, max: 2 ** 31 }),
  fc.constantFrom(1e21, -1e21, Number.MAX_SAFE_INTEGER + 2, 1.5, 0.1, -0, 1e308, -1e308, 5e-324),
);

/** Values of the wrong type, shape or size for any field. */
const wrongValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  hugeOrNegative,
  fc.constantFrom('', '   ', '\t\n'),
  fc.integer({ min: 101, max: 3_000 }).map((length) => 'x'.repeat(length)),
  fc.string({ maxLength: 8 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.constant([]),
  fc.array(fc.record({ sku: fc.constant('SKU-MUG'), quantity: fc.constant(1) }), { minLength: 2, maxLength: 3 }),
  fc.array(fc.record({ sku: fc.string({ minLength: 1, maxLength: 8 }), quantity: fc.constant(1) }), {
    minLength: 51,
    maxLength: 60,
  }),
);

const fieldPaths: (string | number)[][] = [
  ['customerId'],
  ['items'],
  ['items', 0],
  ['items', 0, 'sku'],
  ['items', 0, 'quantity'],
  ['payment'],
  ['payment', 'token'],
  ['shippingAddress'],
  ...['recipient', 'line1', 'city', 'postalCode', 'country'].map((field) => ['shippingAddress', field]),
];

type Mutation =
  | { kind: 'delete'; path: (string | number)[] }
  | { kind: 'set'; path: (string | number)[]; value: unknown }
  | { kind: 'extra'; path: (string | number)[]; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...fieldPaths) }),
  fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...fieldPaths), value: wrongValue }),
  fc.record({
    kind: fc.constant('set' as const),
    path: fc.constant<(string | number)[]>(['items', 0, 'quantity']),
    value: hugeOrNegative,
  }),
  fc.record({
    kind: fc.constant('extra' as const),
    path: fc.constantFrom<(string | number)[]>([], ['payment'], ['shippingAddress'], ['items', 0]),
    key: fc.oneof(
      fc.string({ minLength: 1, maxLength: 10 }),
      fc.constantFrom('__proto__', 'constructor', 'totalCents'),
    ),
    value: fc.jsonValue({ maxDepth: 1 }),
  }),
);

function mutate(order: OrderBody, mutations: Mutation[]): unknown {
  const copy = structuredClone(order);
  for (const change of mutations) {
    const parentPath = change.kind === 'extra' ? change.path : change.path.slice(0, -1);
    let parent: unknown = copy;
    for (const step of parentPath) parent = (parent as Record<string | number, unknown> | undefined)?.[step];
    if (typeof parent !== 'object' || parent === null) continue;
    const target = parent as Record<string | number, unknown>;
    if (change.kind === 'extra')
      Object.defineProperty(target, change.key, {
        value: change.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
    else if (change.kind === 'delete') delete target[change.path.at(-1)!];
    else target[change.path.at(-1)!] = change.value;
  }
  return copy;
}

const malformedJson = fc.oneof(
  validOrder.chain((order) => {
    const json = JSON.stringify(order);
    return fc.integer({ min: 1, max: json.length - 1 }).map((end) => json.slice(0, end));
  }),
  validOrder.map((order) => `${JSON.stringify(order)}garbage`),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }),
  fc.integer({ min: 100, max: 10_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 100, max: 3_000 }).map((depth) => '{"customerId":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.constantFrom(
    '{',
    '}',
    '{"customerId": }',
    "{'customerId': 'cus_1'}",
    '{"customerId": "cus_1",}',
    '[1,]',
    'NaN',
    '{"items": NaN}',
    '{"items": Infinity}',
    '{"quantity": 01}',
    '// comment\n{}',
    '{"a":1} {"b":2}',
    '"\\ud800"',
    'true',
    '1',
    '"a string"',
    'null',
    '{"a":"\u0001"}',
    '{"a":"\\x41"}',
    '{"quantity":1e999999}',
    '\ufeff\ufeff{}',
    '{"__proto__": {"customerId": "cus_1"}}',
  ),
);

/** A JSON object text that repeats a key: the parser keeps the last value, so most are invalid, a few valid. */
const duplicateKeys = fc
  .tuple(
    validOrder,
    fc.constantFrom('customerId', 'items', 'payment', 'shippingAddress'),
    fc.oneof(
      { weight: 9, arbitrary: wrongValue },
      { weight: 1, arbitrary: validOrder.map((order) => order.customerId) },
    ),
    fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  )
  .map(([order, key, value, repeatFirst]) => {
    const entries = Object.entries(order).map(([name, field]) => `${JSON.stringify(name)}:${JSON.stringify(field)}`);
    const repeated = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    return `{${repeatFirst ? [repeated, ...entries].join(',') : [...entries, repeated].join(',')}}`;
  });

const oversized = fc
  .tuple(
    validOrder,
    fc.oneof(
      fc.integer({ min: bodyLimitBytes - 200, max: bodyLimitBytes + 200 }),
      fc.integer({ min: bodyLimitBytes, max: 200_000 }),
    ),
  )
  .map(([order, size]) => {
    const base = JSON.stringify({ ...order, customerId: '' });
    return JSON.stringify({ ...order, customerId: 'x'.repeat(Math.max(0, size - base.length)) });
  });

const jsonContentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'Application/JSON',
);
const otherContentType = fc.constantFrom(
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  'application/vnd.api+json',
  'application/json-patch+json',
  'text/json',
  '*/*',
  'garbage',
  'application/json, text/plain',
  'application/json; charset=latin1',
  'application/json; charset=iso-8859-1',
);

/** The pool of keys valid orders draw from (so some repeat); the ids of other routes come from it too. */
const keyPool = Array.from({ length: 24 }, (_, index) => `fuzz-${seed}-${index}`);
const printableAscii = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));
const goodKey = fc.oneof(
  fc.constantFrom(...keyPool),
  fc.string({ unit: printableAscii, minLength: 1, maxLength: 64 }).map((key) => `fz${key}`),
  fc.constant('k'.repeat(255)),
  fc.constantFrom(...keyPool).map((key) => ` \t${key}  `),
);
const latin1 = fc.integer({ min: 0xa0, max: 0xff }).map((code) => String.fromCharCode(code));
const oddKey: fc.Arbitrary<string | string[] | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('', ' ', '\t \t'),
  fc.constantFrom('with space', 'tab\there', `quote"'\``),
  fc.string({ unit: latin1, minLength: 1, maxLength: 8 }),
  fc.integer({ min: 256, max: 2_000 }).map((length) => 'k'.repeat(length)),
  fc.tuple(fc.constantFrom(...keyPool), fc.constantFrom(...keyPool)).map(([a, b]) => [a, b]),
);

function withKey(headers: Record<string, string | string[]>, key: string | string[] | undefined) {
  return key === undefined ? headers : { ...headers, 'idempotency-key': key };
}

function placeOrder(
  kind: string,
  body: fc.Arbitrary<string | Uint8Array>,
  contentType: fc.Arbitrary<string | undefined>,
  key: fc.Arbitrary<string | string[] | undefined>,
): fc.Arbitrary<FuzzCase> {
  return fc.tuple(body, contentType, key).map(([payload, type, idempotencyKey]) => {
    const request: Omit<FuzzCase, 'expected'> = {
      kind,
      method: 'POST',
      path: '/orders',
      headers: withKey(type === undefined ? {} : { 'content-type': type }, idempotencyKey),
      body: payload,
    };
    return { ...request, ...expectPlaceOrder(request) };
  });
}

const json = (value: unknown) => JSON.stringify(value);

/** An order id segment as a client might send it (already URL-encoded). */
const rawOrderId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...keyPool.map((key) => orderIdFor(usualCustomerId, key))) },
  { weight: 2, arbitrary: fc.stringMatching(/^ord_[0-9a-f]{24}$/) },
  {
    weight: 3,
    arbitrary: fc.oneof(text, fc.string({ maxLength: 2_000 })).map((id) => {
      try {
        return encodeURIComponent(id);
      } catch {
        return 'not-an-order';
      }
    }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      // Mostly not valid percent-encoding: the router cannot decode them.
      '%',
      '%G0',
      '%E0%A4%A',
      '%C0%80',
      '%FF',
      'ord_%ZZ',
      '%2e%2e',
      '..%2F..%2Fhealth',
      'ORD_ABC',
    ),
  },
);

const query = fc.oneof(
  { weight: 5, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('?x=1', '?x=1&x=2', '?__proto__[a]=1', '?%E0%A4%A=1') },
);

interface MessageBody {
  body?: string;
  valid: boolean;
}
const tooLong = 'x'.repeat(5_000);
const invalidMessages = (...bodies: unknown[]) =>
  fc.constantFrom<MessageBody>(...bodies.map((body) => ({ body: json(body), valid: false })));
const rawInvalid = fc.constantFrom<MessageBody>(
  ...['{', '{"reason": }', 'null', '"text"', '[1,]', '{"a":1} x'].map((body) => ({ body, valid: false })),
);

const messageBodies = {
  cancel: fc.oneof(
    fc.constantFrom<MessageBody>(
      { valid: true },
      { body: '{}', valid: true },
      { body: json({ reason: 'changed my mind' }), valid: true },
      { body: json({ reason: `'; DROP TABLE "Order"; -- 🧾` }), valid: true },
    ),
    invalidMessages(
      { reason: '' },
      { reason: '   ' },
      { reason: 5 },
      { reason: null },
      { reason: tooLong },
      { reason: 'ok', extra: 1 },
      [],
    ),
    rawInvalid,
  ),
  decision: fc.oneof(
    fc.constantFrom<MessageBody>(
      { body: json({ decidedBy: 'ops' }), valid: true },
      { body: json({ decidedBy: 'ops', comment: 'fine ✓' }), valid: true },
    ),
    invalidMessages(
      {},
      { decidedBy: '' },
      { decidedBy: 7 },
      { decidedBy: tooLong },
      { decidedBy: 'ops', comment: tooLong },
      { decidedBy: 'ops', approved: true },
      [],
    ),
    rawInvalid,
    fc.constant<MessageBody>({ valid: false }),
  ),
  compensation: fc.oneof(
    fc.constantFrom<MessageBody>(
      { body: json({ action: 'retry', note: 'asked again' }), valid: true },
      { body: json({ action: 'mark-resolved', note: 'refunded by hand' }), valid: true },
    ),
    invalidMessages(
      { action: 'delete', note: 'x' },
      { action: 'retry' },
      { action: 'retry', note: '' },
      { action: 'retry', note: tooLong },
      { action: ['retry'], note: 'x' },
      { action: 'retry', note: 'x', extra: true },
    ),
    rawInvalid,
    fc.constant<MessageBody>({ valid: false }),
  ),
};

function orderMessage(route: 'cancel' | 'approve' | 'reject' | 'compensation'): fc.Arbitrary<FuzzCase> {
  const bodies =
    route === 'cancel'
      ? messageBodies.cancel
      : route === 'compensation'
        ? messageBodies.compensation
        : messageBodies.decision;
  return fc
    .tuple(
      rawOrderId,
      bodies,
      fc.oneof({ weight: 5, arbitrary: jsonContentType }, { weight: 1, arbitrary: otherContentType }),
      query,
    )
    .map(([rawId, message, type, search]) => {
      const request: Omit<FuzzCase, 'expected'> = {
        kind: `POST /orders/:id/${route}`,
        method: 'POST',
        path: `/orders/${rawId}/${route}${search}`,
        headers: { 'content-type': type },
        ...(message.body === undefined ? {} : { body: message.body }),
      };
      return { ...request, ...expectOrderMessage(request, rawId, message.valid) };
    });
}

const getOrder: fc.Arbitrary<FuzzCase> = fc.tuple(rawOrderId, query).map(([rawId, search]) => {
  // GET /orders/ is the list (a trailing slash names the same route): 200, or 400 for its query.
  const problems = rawId === '' ? [200, 400] : orderIdProblems(rawId);
  return {
    kind: 'GET /orders/:id',
    method: 'GET',
    path: `/orders/${rawId}${search}`,
    headers: {},
    expected: problems.length > 0 ? problems : [200, 404],
  };
});

/**
 * GET /orders with any query string: 200 when every parameter is one the list takes with a value it accepts,
 * else 400 (the schema decides which; both are a client's answer, never a 5xx).
 */
const listOrders: fc.Arbitrary<FuzzCase> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'status',
        'customerId',
        'createdFrom',
        'createdTo',
        'sort',
        'limit',
        'cursor',
        'color',
        '__proto__',
      ),
      fc.oneof(
        fc.constantFrom(
          'confirmed',
          'cancelled',
          'createdAt:asc',
          '2026-01-01T00:00:00Z',
          '0',
          '20',
          '101',
          'cus_fuzz',
        ),
        text,
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs): FuzzCase => {
    const search = new URLSearchParams(pairs).toString();
    return {
      kind: 'GET /orders',
      method: 'GET',
      path: `/orders${search ? `?${search}` : ''}`,
      headers: {},
      expected: [200, 400],
    };
  });

/**
 * Routes and methods the API does not have: 405 for a method a documented path does not take, 404 for a path it does
 * not have, or 400/413 for a malformed/oversized JSON body (parsed first).
 */
const unknownRoute: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    fc.constantFrom<[Method, string, 404 | 405]>(
      ['PUT', `/orders/${orderIdFor(usualCustomerId, keyPool[0]!)}/events`, 405],
      ['PUT', '/orders', 405],
      ['DELETE', '/orders', 405],
      ['PATCH', `/orders/${orderIdFor(usualCustomerId, keyPool[0]!)}`, 405],
      ['DELETE', `/orders/${orderIdFor(usualCustomerId, keyPool[0]!)}`, 405],
      ['POST', `/orders/${orderIdFor(usualCustomerId, keyPool[0]!)}`, 405],
      ['GET', '/orders/x/cancel', 405],
      ['POST', '/health/live', 405],
      ['GET', '/admin', 404],
      ['GET', '/%2e%2e/%2e%2e/etc/passwd', 404],
    ),
    fc.option(
      fc.oneof(
        validOrder.map(json),
        malformedJson.filter((body): body is string => typeof body === 'string'),
      ),
    ),
  )
  .map(([[method, path, unknown], body]): FuzzCase => {
    const size = body === null ? 0 : Buffer.byteLength(body);
    const malformed = body !== null && size <= bodyLimitBytes && !parseJson(Buffer.from(body)).ok;
    return {
      kind: 'unknown route',
      method,
      path,
      headers: body === null ? {} : { 'content-type': 'application/json' },
      ...(body === null ? {} : { body }),
      expected: size > bodyLimitBytes ? [413, unknown] : malformed ? [400, unknown] : [unknown],
    };
  });

const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .oneof(
    { weight: 2, arbitrary: placeOrder('valid order', validOrder.map(json), jsonContentType, goodKey) },
    {
      weight: 36,
      arbitrary: placeOrder(
        'wrong fields',
        fc
          .tuple(validOrder, fc.array(mutation, { minLength: 1, maxLength: 3 }))
          .map(([order, changes]) => json(mutate(order, changes))),
        jsonContentType,
        goodKey,
      ),
    },
    { weight: 3, arbitrary: placeOrder('not an object', fc.jsonValue().map(json), jsonContentType, goodKey) },
    { weight: 14, arbitrary: placeOrder('malformed JSON', malformedJson, jsonContentType, goodKey) },
    { weight: 5, arbitrary: placeOrder('duplicate keys', duplicateKeys, jsonContentType, goodKey) },
    { weight: 4, arbitrary: placeOrder('oversized body', oversized, jsonContentType, goodKey) },
    {
      weight: 7,
      arbitrary: placeOrder(
        'wrong content type',
        validOrder.map(json),
        fc.option(otherContentType, { nil: undefined }),
        goodKey,
      ),
    },
    { weight: 8, arbitrary: placeOrder('odd Idempotency-Key', validOrder.map(json), jsonContentType, oddKey) },
    { weight: 8, arbitrary: getOrder },
    { weight: 4, arbitrary: listOrders },
    { weight: 4, arbitrary: orderMessage('cancel') },
    { weight: 2, arbitrary: orderMessage('approve') },
    { weight: 1, arbitrary: orderMessage('reject') },
    { weight: 2, arbitrary: orderMessage('compensation') },
    { weight: 3, arbitrary: unknownRoute },
  )
  // fast-check prints a counterexample with this: long bodies and paths cut in the middle.
  .map((c) => Object.assign(c, { [fc.toStringMethod]: () => `${describeCase(c)} expected=${c.expected.join('|')}` }));

// ---------------------------------------------------------------------------
// sending

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** The last request each keep-alive connection carried, to name the culprit when a connection breaks. */
const lastOnSocket = new WeakMap<Socket, FuzzCase>();

function send(baseUrl: string, agent: http.Agent, c: FuzzCase): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  const body = c.body === undefined ? undefined : bytesOf(c.body);
  // Node's client frames a GET or DELETE body only when told its length.
  const headers = body === undefined ? c.headers : { ...c.headers, 'content-length': String(body.length) };
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: hostname, port, method: c.method, path: c.path, headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'] ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    let previous: FuzzCase | undefined;
    request.on('socket', (socket) => {
      previous = lastOnSocket.get(socket);
      lastOnSocket.set(socket, c);
    });
    request.setTimeout(requestTimeoutMs, () => request.destroy(new Error(`no answer within ${requestTimeoutMs} ms`)));
    request.on('error', (error) => {
      const reused =
        request.reusedSocket && previous ? `; the connection's previous request: ${describeCase(previous)}` : '';
      reject(new Error(`${error.message}${reused}`, { cause: error }));
    });
    request.end(body);
  });
}

/** Short enough to print: long strings cut in the middle. */
function describeCase(c: FuzzCase): string {
  const body = c.body === undefined ? '' : typeof c.body === 'string' ? c.body : `<${c.body.length} bytes>`;
  const cut = (value: string) =>
    value.length > 300 ? `${value.slice(0, 200)}…(${value.length} chars)…${value.slice(-60)}` : value;
  return `${c.method} ${cut(c.path)} headers=${cut(JSON.stringify(c.headers))} body=${cut(JSON.stringify(body))}`;
}

// ---------------------------------------------------------------------------

test('the generated mix: mostly invalid, a small share of valid orders, every kind present', () => {
  const sample = fc.sample(fuzzCase, { seed, numRuns: requestCount });
  const valid = sample.filter((c) => c.validKey !== undefined).length;
  const kinds = new Set(sample.map((c) => c.kind));
  const validByKind = new Map<string, number>();
  for (const c of sample) if (c.validKey !== undefined) validByKind.set(c.kind, (validByKind.get(c.kind) ?? 0) + 1);
  console.log(
    `fuzz mix: ${valid} valid orders of ${sample.length} requests (${((100 * valid) / sample.length).toFixed(1)}%: ${[
      ...validByKind,
    ]
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ')})`,
  );
  assert.ok(valid / sample.length >= 0.01 && valid / sample.length <= 0.06, `${valid} valid of ${sample.length}`);
  assert.equal(kinds.size, 15, [...kinds].join(', '));
});

describe('fuzzing the HTTP API', () => {
  let stack: Stack;
  let agent: http.Agent;
  const byStatus = new Map<number, number>();
  const byKind = new Map<string, number>();
  const serverErrors: string[] = [];
  /** The orders valid requests named and placed (or repeated): a customer's key names one. */
  const acceptedOrders = new Set<string>();
  /** Per accepted order, the body it was accepted with; and the requests refused with 422. */
  const acceptedBodies = new Map<string, string>();
  const refusedBodies: { orderId: string; fingerprint: string; seen: string }[] = [];
  let requests = 0;
  let workflowsBefore = 0;
  let workflowsAfter: number | undefined;
  let fuzzingMs = 0;

  const countOrderWorkflows = async () =>
    (await stack.temporal.client.workflow.count(`WorkflowType = '${orderWorkflowType}'`)).count;

  before(async () => {
    console.log(`fuzz: seed ${seed} (reproduce with FUZZ_SEED=${seed}), ${requestCount} requests, ${lanes} at once`);
    stack = await startStack('sqlite');
    agent = new http.Agent({ keepAlive: true, maxSockets: lanes });
    workflowsBefore = await countOrderWorkflows();
  });

  after(async () => {
    const statuses = [...byStatus].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${count}`);
    const kinds = [...byKind].sort(([, a], [, b]) => b - a).map(([kind, count]) => `  ${kind}: ${count}`);
    console.log(
      [
        `fuzz figures (seed ${seed}):`,
        `  requests: ${requests} in ${(fuzzingMs / 1000).toFixed(1)} s`,
        `  by status: ${statuses.join(', ')}`,
        `  orders accepted (customer and valid idempotency key): ${acceptedOrders.size}; order workflows started: ${
          workflowsAfter === undefined ? '?' : workflowsAfter - workflowsBefore
        }`,
        `  5xx: ${serverErrors.length}`,
        ...[...new Set(serverErrors)].slice(0, 10).map((seen) => `    ${seen}`),
        'by kind:',
        ...kinds,
      ].join('\n'),
    );
    agent?.destroy();
    await stack?.stop();
  });

  test('every request gets a documented answer: 4xx problem or 2xx, never a 5xx', async () => {
    const started = performance.now();
    const property = fc.asyncProperty(fuzzCase, async (c) => {
      const answer = await send(stack.baseUrl, agent, c);
      requests += 1;
      byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
      byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
      const seen = `${describeCase(c)}\n  -> ${answer.status} ${answer.contentType} ${answer.body.slice(0, 500)}`;
      if (answer.status >= 500) serverErrors.push(seen);
      assert.ok(c.expected.includes(answer.status), `expected ${c.expected.join(' or ')}, got: ${seen}`);
      assert.doesNotMatch(answer.body, /\n\s+at |node_modules|\.ts:\d+/, `a stack trace or source path: ${seen}`);
      if (answer.status >= 400) {
        assert.match(answer.contentType, problemContentType, seen);
        const problem = JSON.parse(answer.body) as { status?: unknown; title?: unknown };
        assert.equal(problem.status, answer.status, seen);
        assert.equal(typeof problem.title, 'string', seen);
      }
      const problemType = answer.status >= 400 ? (JSON.parse(answer.body) as { type?: unknown }).type : undefined;
      // Every answer but a refused key names an order the request placed (or repeated): 201, 202, and the
      // saga's own refusals, which come with the order's state.
      const placedOrder =
        c.path === '/orders' &&
        (answer.status === 201 ||
          answer.status === 202 ||
          problemType === '/problems/order-rejected' ||
          problemType === '/problems/order-cancelled');
      if (placedOrder) {
        const accepted = (
          answer.status >= 400
            ? (JSON.parse(answer.body) as { state: { orderId: string } }).state
            : JSON.parse(answer.body)
        ) as { orderId: string; workflowId?: string };
        assert.equal(accepted.orderId, c.orderId, seen);
        if (answer.status < 400) assert.equal(accepted.workflowId, orderWorkflowId(accepted.orderId), seen);
        acceptedOrders.add(c.orderId!);
        const acceptedBody = acceptedBodies.get(c.orderId!);
        assert.ok(
          acceptedBody === undefined || acceptedBody === c.fingerprint,
          `an order accepted two bodies: ${seen}`,
        );
        acceptedBodies.set(c.orderId!, c.fingerprint!);
      }
      if (c.path === '/orders' && answer.status === 422 && problemType !== '/problems/order-rejected') {
        assert.equal(problemType, '/problems/idempotency-key-reused', seen);
        refusedBodies.push({ orderId: c.orderId!, fingerprint: c.fingerprint!, seen });
      }
    });
    // allSettled: a lane that fails must not leave the others sending while the stack stops.
    const outcomes = await Promise.allSettled(
      Array.from({ length: lanes }, (_, lane) =>
        fc.assert(property, {
          seed: seed + lane,
          numRuns: Math.ceil(requestCount / lanes),
          interruptAfterTimeLimit: timeLimitMs,
          markInterruptAsFailure: true,
        }),
      ),
    );
    fuzzingMs = performance.now() - started;
    const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    if (failures.length > 0) {
      console.log(`fuzz: ${failures.length} lane(s) failed; reproduce with FUZZ_SEED=${seed}`);
      throw failures[0];
    }
    assert.deepEqual(serverErrors, []);
    // A 422 is right only if its customer's key was accepted with another body (perhaps by a racing request).
    for (const refused of refusedBodies) {
      const accepted = acceptedBodies.get(refused.orderId);
      assert.ok(accepted !== undefined && accepted !== refused.fingerprint, `422 without a reason: ${refused.seen}`);
    }
  });

  test('the workflows started are exactly those of the orders accepted (a customer and a valid key each)', async () => {
    const expected = new Set([...acceptedOrders].map((orderId) => orderWorkflowId(orderId)));
    // Temporal's visibility store lags a little behind the starts.
    const deadline = Date.now() + 15_000;
    for (;;) {
      workflowsAfter = await countOrderWorkflows();
      if (workflowsAfter - workflowsBefore >= expected.size || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(workflowsAfter - workflowsBefore, expected.size);
    const started = new Set<string>();
    for await (const execution of stack.temporal.client.workflow.list({
      query: `WorkflowType = '${orderWorkflowType}'`,
    })) {
      started.add(execution.workflowId);
    }
    assert.deepEqual([...started].sort(), [...expected].sort());
  });

  test('the API is still up', async () => {
    const live = await fetch(`${stack.baseUrl}/health/live`);
    assert.equal(live.status, 200);
    const ready = await fetch(`${stack.baseUrl}/health/ready`);
    assert.equal(ready.status, 200, await ready.text());
  });
});
