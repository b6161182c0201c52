import type { Logger } from '@temporalio/common';
import type { Logger as PinoLogger } from 'pino';
import { createLogger } from '../../src/logger';
import { installWorkerRuntime, workerRuntimeInstalled } from '../../src/workers/runtime';

/** For bundleWorkflowCode in tests: only warnings and errors. */
export const quietLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
  log: () => undefined,
};

/**
 * A process's JSON log in tests, at `defaultLevel` unless `TEST_LOG_LEVEL` (debug, info, …, silent) asks for more or
 * less when investigating a test.
 */
export function testLogger(name: string, defaultLevel: string): PinoLogger {
  return createLogger(name, process.env.TEST_LOG_LEVEL ?? defaultLevel);
}

/**
 * The process-wide Temporal Runtime of the tests' workers, logging errors only: workers log every failed activity
 * attempt at WARN, and the tests fail those on purpose by the hundred (they read outcomes from the databases and
 * histories instead). A test that reads the logs installs its own first (tests/e2e/logging.test.ts).
 */
export function installQuietRuntime(): void {
  if (!workerRuntimeInstalled()) installWorkerRuntime({ logger: testLogger('temporal', 'error') });
}
