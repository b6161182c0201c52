import type { Logger } from '@temporalio/common';

/** For bundleWorkflowCode in tests: only warnings and errors. */
export const quietLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
  log: () => undefined,
};
