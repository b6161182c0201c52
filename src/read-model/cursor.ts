/**
 * Opaque page cursors for the order list: keyset pagination on
 * (createdAt, orderId), so a page starts right after the last row of the one
 * before, whatever was inserted meanwhile (an offset would skip or repeat
 * rows).
 *
 * Format: `<base64url JSON>.<check>`, the JSON being
 * `{ "v": 1, "at": <createdAt ISO>, "id": <orderId>, "q": <query fingerprint> }`
 * and `check` the first 16 base64url characters of its SHA-256. The check
 * catches a cursor that was cut, edited or made up; the fingerprint (of the
 * sort and the filters) one that belongs to another query. It is not a
 * signature: someone who recomputes the hash can forge a cursor, which only
 * moves where a page starts, since the key is passed to the database as bound
 * parameters and never widens the filters.
 */
import { createHash } from 'node:crypto';

/** A cursor that cannot be used: the API answers 400. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

export interface CursorKey {
  createdAt: Date;
  orderId: string;
}

const cursorVersion = 1;

function digest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, length);
}

/** A short, stable fingerprint of everything that defines a list besides its position and page size. */
export function queryFingerprint(query: Record<string, string | undefined>): string {
  const canonical = Object.keys(query)
    .sort()
    .filter((name) => query[name] !== undefined)
    .map((name) => [name, query[name]]);
  return digest(JSON.stringify(canonical), 12);
}

export function encodeCursor(key: CursorKey, fingerprint: string): string {
  const body = Buffer.from(
    JSON.stringify({ v: cursorVersion, at: key.createdAt.toISOString(), id: key.orderId, q: fingerprint }),
  ).toString('base64url');
  return `${body}.${digest(body, 16)}`;
}

export function decodeCursor(cursor: string, fingerprint: string): CursorKey {
  const [body, check, ...rest] = cursor.split('.');
  if (!body || !check || rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(body)) {
    throw new InvalidCursorError('The cursor is malformed');
  }
  if (digest(body, 16) !== check) throw new InvalidCursorError('The cursor was altered');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('The cursor is malformed');
  }
  const { v, at, id, q } = (parsed ?? {}) as Record<string, unknown>;
  if (v !== cursorVersion || typeof at !== 'string' || typeof id !== 'string' || id === '' || typeof q !== 'string') {
    throw new InvalidCursorError('The cursor is malformed');
  }
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== at) {
    throw new InvalidCursorError('The cursor is malformed');
  }
  if (q !== fingerprint) throw new InvalidCursorError('The cursor belongs to another query (sort or filters changed)');
  return { createdAt, orderId: id };
}
