import assert from 'node:assert/strict';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';

/** Runs an activity with an activity context (attempt 1). */
export function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

/** Logs only errors: the tests that refuse or retry attempts on purpose would otherwise bury their report in warnings. */
const errorsOnly = new DefaultLogger('ERROR');

/** Runs an activity as runActivity does, its context logging only errors. */
export function runActivityQuietly<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment(undefined, { logger: errorsOnly }).run(fn, ...args);
}

/** Logs nothing: for activities whose failures are the point of the test. */
export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  log: () => undefined,
};

/** The failure of an activity that must fail (retryable or not), for its type, retryability and retry delay. */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

/** The rejection type of an activity that must fail without retry. */
export async function rejectionOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.nonRetryable, true);
    return error.type ?? undefined;
  }
  assert.fail('expected a rejection');
}
