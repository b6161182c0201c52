import { ApplicationFailure } from '@temporalio/common';
import { rejectionTypes, type RejectionType } from '../domain/rejections';
import { compensationKeyOf, fenceKeyOf } from '../temporal/names';

/**
 * A business rejection thrown inside a service transaction: the transaction
 * rolls back, and the activity fails without retry.
 */
export class Rejection extends Error {
  override name = 'Rejection';
  constructor(
    readonly type: RejectionType,
    message: string,
  ) {
    super(message);
  }
}

/** The slice of a service's Prisma transaction client that idempotency needs. */
export interface IdempotencyRecords {
  idempotencyRecord: {
    findUnique(args: { where: { key: string } }): PromiseLike<{ response: string } | null>;
    findMany(args: {
      where: { key: { in: string[] } };
      select: { key: true; response: true };
    }): PromiseLike<{ key: string; response: string }[]>;
    create(args: { data: { key: string; response: string } }): PromiseLike<unknown>;
    upsert(args: {
      where: { key: string };
      create: { key: string; response: string };
      update: { response: string };
    }): PromiseLike<unknown>;
  };
}

/** The slice of a service's Prisma client that runs an interactive transaction. */
export interface TransactionRunner<Tx> {
  $transaction<R>(work: (tx: Tx) => Promise<R>): Promise<R>;
}

type StoredOutcome<T> = { ok: true; value: T } | { ok: false; type: RejectionType; message: string };

const fenceResponse = JSON.stringify('fence');

/**
 * Locks the step's fence row, creating it if need be, as the first statement
 * of every transaction that decides a step or its compensation. A step and
 * its compensation each read the other's record and write different rows, so
 * on PostgreSQL at READ COMMITTED both could commit (write skew): a
 * reservation, a charge claim or a shipment made after its compensation
 * recorded that there was nothing to undo. Both now write this one row first:
 * the upsert is an INSERT ... ON CONFLICT DO UPDATE, which waits for the
 * other transaction's uncommitted insert or row lock, so the second runs
 * after the first has committed, and at READ COMMITTED its later statements
 * see what the first wrote. SQLite needs none of this (the transactions begin
 * IMMEDIATE, so they already run one at a time); the lock is harmless there.
 */
export async function lockStepFence(tx: IdempotencyRecords, stepKey: string): Promise<void> {
  const key = fenceKeyOf(stepKey);
  await tx.idempotencyRecord.upsert({
    where: { key },
    create: { key, response: fenceResponse },
    update: { response: fenceResponse },
  });
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

function settle<T>(outcome: StoredOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw ApplicationFailure.nonRetryable(outcome.message, outcome.type);
}

interface ExecuteOptions<Tx> {
  /**
   * Whether a rejection is remembered under the key. A step's rejection is
   * (the same request gets the same answer); a compensation's is not, so that
   * an operator's retry really runs it again.
   */
  rememberRejection: boolean;
  /** A record whose presence refuses the work (see {@link Refusal}). */
  refusal?: Refusal;
  /** The step whose fence row the transaction locks before it reads anything (see {@link lockStepFence}). */
  fence?: string;
  /**
   * Checked inside the transaction when the key already holds an outcome, before that outcome is answered; may throw.
   * For a check that only a repeat needs: the first execution pays nothing for it.
   */
  beforeRepeat?: (tx: Tx) => Promise<void>;
}

/**
 * The work is refused when a record is stored under `key`: a step's or a commit's once the step was compensated.
 * Read in the same query as the key's own record, which still wins: a step that finished answers what it stored.
 */
export interface Refusal {
  key: string;
  rejection: () => Rejection;
}

/** What the transaction found under the key (and under the refusal's key, read in the same query). */
async function readRecords<T>(
  tx: IdempotencyRecords,
  key: string,
  refusal: Refusal | undefined,
): Promise<{ stored: StoredOutcome<T> | undefined; refused: boolean }> {
  if (refusal === undefined) {
    const record = await tx.idempotencyRecord.findUnique({ where: { key } });
    return { stored: record ? (JSON.parse(record.response) as StoredOutcome<T>) : undefined, refused: false };
  }
  const records = await tx.idempotencyRecord.findMany({
    where: { key: { in: [key, refusal.key] } },
    select: { key: true, response: true },
  });
  const record = records.find((found) => found.key === key);
  return {
    stored: record ? (JSON.parse(record.response) as StoredOutcome<T>) : undefined,
    refused: records.some((found) => found.key === refusal.key),
  };
}

/**
 * Runs `work` at most once per key: its result is stored under the key in the
 * same transaction as its changes, and any later execution with that key
 * returns the stored result and changes nothing. Two executions racing on the
 * same key are settled by the key's unique constraint: the loser rolls back
 * and returns the winner's result.
 */
export async function executeOnce<Tx extends IdempotencyRecords, T>(
  db: TransactionRunner<Tx>,
  key: string,
  work: (tx: Tx) => Promise<T>,
  options: ExecuteOptions<Tx>,
): Promise<T> {
  let outcome: StoredOutcome<T>;
  try {
    outcome = await db.$transaction(async (tx) => {
      if (options.fence !== undefined) await lockStepFence(tx, options.fence);
      const { stored, refused } = await readRecords<T>(tx, key, options.refusal);
      if (stored) {
        await options.beforeRepeat?.(tx);
        return stored;
      }
      if (refused) throw options.refusal!.rejection();
      const value = await work(tx);
      const done: StoredOutcome<T> = { ok: true, value };
      await tx.idempotencyRecord.create({ data: { key, response: JSON.stringify(done) } });
      return done;
    });
  } catch (error) {
    if (error instanceof Rejection) {
      outcome = { ok: false, type: error.type, message: error.message };
      if (options.rememberRejection) {
        outcome = (await rememberOutcome(db, key, outcome)) ?? outcome;
      }
    } else if (isUniqueViolation(error)) {
      const winner = await readOutcome<Tx, T>(db, key);
      if (!winner) throw error;
      outcome = winner;
    } else {
      throw error;
    }
  }
  return settle(outcome);
}

/** Stores a rejection; if another execution stored an outcome first, returns that one. */
async function rememberOutcome<Tx extends IdempotencyRecords, T>(
  db: TransactionRunner<Tx>,
  key: string,
  outcome: StoredOutcome<T>,
): Promise<StoredOutcome<T> | null> {
  try {
    await db.$transaction(async (tx) => {
      await tx.idempotencyRecord.create({ data: { key, response: JSON.stringify(outcome) } });
    });
    return null;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    return readOutcome<Tx, T>(db, key);
  }
}

async function readOutcome<Tx extends IdempotencyRecords, T>(
  db: TransactionRunner<Tx>,
  key: string,
): Promise<StoredOutcome<T> | null> {
  return db.$transaction(async (tx) => {
    const record = await tx.idempotencyRecord.findUnique({ where: { key } });
    return record ? (JSON.parse(record.response) as StoredOutcome<T>) : null;
  });
}

/**
 * A saga step: executed once per key, and refused if its compensation has
 * already run. The saga compensates a step whose outcome it could not learn
 * (retries exhausted), so a late attempt of that step must not take effect
 * after its compensation.
 */
export function executeStep<Tx extends IdempotencyRecords, T>(
  db: TransactionRunner<Tx>,
  key: string,
  work: (tx: Tx) => Promise<T>,
  { beforeRepeat }: Pick<ExecuteOptions<Tx>, 'beforeRepeat'> = {},
): Promise<T> {
  return executeOnce(db, key, work, {
    rememberRejection: true,
    fence: key,
    refusal: compensatedStep(key),
    ...(beforeRepeat && { beforeRepeat }),
  });
}

/** Refuses a step (or its claim) once its compensation is recorded. */
function compensatedStep(key: string): Refusal {
  return {
    key: compensationKeyOf(key),
    rejection: () => new Rejection(rejectionTypes.stepAlreadyCompensated, `Step ${key} was already compensated`),
  };
}

export type StepClaim<T> = { finished: true; value: T } | { finished: false };

/**
 * The first half of a step whose effect happens outside the service's
 * database (a call to a partner), which cannot run inside a transaction: in
 * one transaction, answers the stored outcome if the step already finished,
 * refuses if it was compensated, and otherwise runs `claim`, which records
 * the intent so that a compensation can find it. The second half records the
 * result with {@link executeStep}, whose guard refuses again if a
 * compensation ran meanwhile (that compensation found the claim). Both halves
 * lock the step's fence row first, as the compensation does, so a claim is
 * either seen by the compensation or refused.
 */
export async function claimStep<Tx extends IdempotencyRecords, T>(
  db: TransactionRunner<Tx>,
  key: string,
  claim: (tx: Tx) => Promise<void>,
): Promise<StepClaim<T>> {
  let outcome: StoredOutcome<T>;
  try {
    const stored = await db.$transaction(async (tx) => {
      await lockStepFence(tx, key);
      const refusal = compensatedStep(key);
      const { stored, refused } = await readRecords<T>(tx, key, refusal);
      if (stored) return stored;
      if (refused) throw refusal.rejection();
      await claim(tx);
      return undefined;
    });
    if (!stored) return { finished: false };
    outcome = stored;
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    outcome = { ok: false, type: error.type, message: error.message };
    outcome = (await rememberOutcome(db, key, outcome)) ?? outcome;
  }
  return { finished: true, value: settle(outcome) };
}

/**
 * A compensation of the step with `stepKey`: executed once, recorded under
 * the step's compensation key (which also fences a late attempt of the step).
 * It locks the step's fence row first, as the step does, so the two never
 * decide at once: the compensation sees the step's effect, or the step sees
 * the compensation's record and is refused.
 */
export function executeCompensation<Tx extends IdempotencyRecords, T>(
  db: TransactionRunner<Tx>,
  stepKey: string,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  return executeOnce(db, compensationKeyOf(stepKey), work, { rememberRejection: false, fence: stepKey });
}
