import { createClient, type Client, type InStatement, type Row } from '@libsql/client';
import { ensureSqliteDir, normalizeSqliteUrl } from '../../src/db/url';
import type { Charge, Refund } from '../../src/partners/contract';

/**
 * The gateway's own database (SQLite through libsql): charges, refunds and the
 * answers stored under each Idempotency-Key.
 *
 * libsql runs every statement synchronously on the event loop, and this store
 * keeps one connection for its whole life: it never opens an interactive
 * transaction (libsql hands the connection to the transaction and opens a new
 * one for the next statement, without the busy timeout). Changes that must
 * happen together go in one `batch`, which runs as one IMMEDIATE transaction
 * without yielding. Uniqueness is left to constraints (one charge per key, one
 * refund per charge), never to a read-then-write.
 *
 * One gateway process per database file: at open, claims left in progress by
 * a previous process are released (nothing can still be working on them).
 */

/** How long an Idempotency-Key and its answer are kept (as a card processor does): a retry later than this is new. */
export const idempotencyKeyRetentionMs = 24 * 60 * 60 * 1000;

const busyTimeoutMs = 5_000;

const schema = `
CREATE TABLE IF NOT EXISTS charges (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  order_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  currency TEXT NOT NULL,
  token TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('succeeded', 'declined')),
  decline_reason TEXT,
  refunded_cents INTEGER NOT NULL DEFAULT 0 CHECK (refunded_cents BETWEEN 0 AND amount_cents),
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS charges_order_id ON charges (order_id);

CREATE TABLE IF NOT EXISTS refunds (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  charge_id TEXT NOT NULL UNIQUE REFERENCES charges (id),
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS idempotency_keys (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_progress', 'done')),
  status_code INTEGER,
  response_body TEXT,
  created_at INTEGER NOT NULL,
  CHECK ((state = 'done') = (status_code IS NOT NULL AND response_body IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE IF NOT EXISTS flaky_failures (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flaky_failures_created_at ON flaky_failures (created_at);
`;

/** An answer as sent: status and JSON body text, replayed byte for byte. */
export interface StoredAnswer {
  status: number;
  body: string;
}

export type KeyClaim =
  | { outcome: 'claimed' }
  | { outcome: 'in_progress' }
  | { outcome: 'reused' }
  | { outcome: 'replay'; answer: StoredAnswer };

export interface ChargeRecord {
  charge: Charge;
  token: string;
}

/** A charge as committed, with the token that decides its refunds' fate. */
export interface NewCharge extends ChargeRecord {
  idempotencyKey: string;
}

export interface GatewayStore {
  /**
   * Claims a key for one request. Another request under the key finds it in
   * progress, its stored answer, or (another fingerprint) reused.
   */
  claimKey(key: string, fingerprint: string, nowMs: number): Promise<KeyClaim>;
  /** Gives up a claim whose request did nothing, so a retry is handled afresh. A stored answer stays. */
  releaseKey(key: string): Promise<void>;
  /** Stores an answer that changed nothing else (a refusal). */
  storeAnswer(key: string, answer: StoredAnswer): Promise<void>;
  /**
   * Commits a charge and the answer under its key at once. `duplicate`: a
   * charge was already made with this key (one older than the key's retention).
   */
  commitCharge(charge: NewCharge, answer: StoredAnswer): Promise<'committed' | 'duplicate'>;
  /**
   * Commits a full refund, the charge's refunded amount and the answer under
   * its key at once. `already_refunded`: another refund of the charge won;
   * `duplicate`: a refund was already made with this key (one older than the key's retention).
   */
  commitRefund(
    refund: Refund,
    idempotencyKey: string,
    answer: StoredAnswer,
  ): Promise<'committed' | 'already_refunded' | 'duplicate'>;
  /** How many 503s tok_flaky has answered under this key. */
  flakyFailures(key: string): Promise<number>;
  recordFlakyFailure(key: string, nowMs: number): Promise<void>;
  findCharge(chargeId: string): Promise<ChargeRecord | undefined>;
  /** Newest first. */
  listCharges(filter: { orderId?: string; limit: number }): Promise<Charge[]>;
  /** Deletes up to `limit` keys (and tok_flaky counts) created before `beforeMs`; returns how many keys went. */
  purgeKeys(beforeMs: number, limit: number): Promise<number>;
  close(): void;
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`gateway store: ${column} is not text`);
  return value;
}

function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`gateway store: ${column} is not a number`);
  return value;
}

function toChargeRecord(row: Row): ChargeRecord {
  const status = text(row, 'status');
  if (status !== 'succeeded' && status !== 'declined') throw new Error(`gateway store: unknown status ${status}`);
  const declineReason = row.decline_reason;
  return {
    charge: {
      id: text(row, 'id'),
      status,
      amountCents: integer(row, 'amount_cents'),
      currency: text(row, 'currency'),
      orderId: text(row, 'order_id'),
      declineReason: typeof declineReason === 'string' ? declineReason : null,
      refundedCents: integer(row, 'refunded_cents'),
      createdAt: text(row, 'created_at'),
    },
    token: text(row, 'token'),
  };
}

const chargeColumns = 'id, order_id, amount_cents, currency, token, status, decline_reason, refunded_cents, created_at';

function isUniqueViolation(error: unknown, column: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') &&
    typeof message === 'string' &&
    message.includes(column)
  );
}

function markDone(key: string, answer: StoredAnswer): InStatement {
  return {
    sql: `UPDATE idempotency_keys SET state = 'done', status_code = ?, response_body = ? WHERE key = ?`,
    args: [answer.status, answer.body, key],
  };
}

class SqliteGatewayStore implements GatewayStore {
  constructor(private readonly db: Client) {}

  async claimKey(key: string, fingerprint: string, nowMs: number): Promise<KeyClaim> {
    const inserted = await this.db.execute({
      sql: `INSERT INTO idempotency_keys (key, fingerprint, state, created_at) VALUES (?, ?, 'in_progress', ?)
            ON CONFLICT (key) DO NOTHING`,
      args: [key, fingerprint, nowMs],
    });
    if (inserted.rowsAffected === 1) return { outcome: 'claimed' };
    const { rows } = await this.db.execute({
      sql: 'SELECT fingerprint, state, status_code, response_body FROM idempotency_keys WHERE key = ?',
      args: [key],
    });
    const row = rows[0];
    // Released between the two statements (not while one process runs them synchronously): the caller retries.
    if (!row) return { outcome: 'in_progress' };
    if (text(row, 'fingerprint') !== fingerprint) return { outcome: 'reused' };
    if (text(row, 'state') === 'in_progress') return { outcome: 'in_progress' };
    return { outcome: 'replay', answer: { status: integer(row, 'status_code'), body: text(row, 'response_body') } };
  }

  async releaseKey(key: string): Promise<void> {
    await this.db.execute({ sql: `DELETE FROM idempotency_keys WHERE key = ? AND state = 'in_progress'`, args: [key] });
  }

  async storeAnswer(key: string, answer: StoredAnswer): Promise<void> {
    await this.db.execute(markDone(key, answer));
  }

  async commitCharge({ charge, token, idempotencyKey }: NewCharge, answer: StoredAnswer) {
    try {
      await this.db.batch(
        [
          {
            sql: `INSERT INTO charges (${chargeColumns}, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            args: [
              charge.id,
              charge.orderId,
              charge.amountCents,
              charge.currency,
              token,
              charge.status,
              charge.declineReason,
              charge.refundedCents,
              charge.createdAt,
              idempotencyKey,
            ],
          },
          markDone(idempotencyKey, answer),
        ],
        'write',
      );
      return 'committed' as const;
    } catch (error) {
      if (isUniqueViolation(error, 'charges.idempotency_key')) return 'duplicate' as const;
      throw error;
    }
  }

  async commitRefund(refund: Refund, idempotencyKey: string, answer: StoredAnswer) {
    try {
      await this.db.batch(
        [
          {
            sql: `INSERT INTO refunds (id, idempotency_key, charge_id, amount_cents, created_at) VALUES (?, ?, ?, ?, ?)`,
            args: [refund.id, idempotencyKey, refund.chargeId, refund.amountCents, refund.createdAt],
          },
          {
            sql: 'UPDATE charges SET refunded_cents = refunded_cents + ? WHERE id = ?',
            args: [refund.amountCents, refund.chargeId],
          },
          markDone(idempotencyKey, answer),
        ],
        'write',
      );
      return 'committed' as const;
    } catch (error) {
      if (isUniqueViolation(error, 'refunds.charge_id')) return 'already_refunded' as const;
      if (isUniqueViolation(error, 'refunds.idempotency_key')) return 'duplicate' as const;
      throw error;
    }
  }

  async flakyFailures(key: string): Promise<number> {
    const { rows } = await this.db.execute({ sql: 'SELECT failures FROM flaky_failures WHERE key = ?', args: [key] });
    return rows[0] ? integer(rows[0], 'failures') : 0;
  }

  async recordFlakyFailure(key: string, nowMs: number): Promise<void> {
    await this.db.execute({
      sql: `INSERT INTO flaky_failures (key, failures, created_at) VALUES (?, 1, ?)
            ON CONFLICT (key) DO UPDATE SET failures = failures + 1`,
      args: [key, nowMs],
    });
  }

  async findCharge(chargeId: string): Promise<ChargeRecord | undefined> {
    const { rows } = await this.db.execute({
      sql: `SELECT ${chargeColumns} FROM charges WHERE id = ?`,
      args: [chargeId],
    });
    return rows[0] ? toChargeRecord(rows[0]) : undefined;
  }

  async listCharges({ orderId, limit }: { orderId?: string; limit: number }): Promise<Charge[]> {
    const { rows } = await this.db.execute(
      orderId === undefined
        ? { sql: `SELECT ${chargeColumns} FROM charges ORDER BY created_at DESC, rowid DESC LIMIT ?`, args: [limit] }
        : {
            sql: `SELECT ${chargeColumns} FROM charges WHERE order_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`,
            args: [orderId, limit],
          },
    );
    return rows.map((row) => toChargeRecord(row).charge);
  }

  async purgeKeys(beforeMs: number, limit: number): Promise<number> {
    const [keys] = await this.db.batch(
      [
        {
          sql: `DELETE FROM idempotency_keys WHERE key IN
                  (SELECT key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
          args: [beforeMs, limit],
        },
        {
          sql: `DELETE FROM flaky_failures WHERE key IN
                  (SELECT key FROM flaky_failures WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
          args: [beforeMs, limit],
        },
      ],
      'write',
    );
    return keys?.rowsAffected ?? 0;
  }

  close(): void {
    this.db.close();
  }
}

/** Opens (and creates) the gateway's database; `url` is a SQLite file: URL, relative to the project root. */
export async function openGatewayStore(url: string): Promise<GatewayStore> {
  ensureSqliteDir(url);
  const db = createClient({ url: normalizeSqliteUrl(url) });
  try {
    await db.execute(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    await db.execute('PRAGMA journal_mode = WAL');
    await db.executeMultiple(schema);
    await db.execute(`DELETE FROM idempotency_keys WHERE state = 'in_progress'`);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteGatewayStore(db);
}
