import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger, WorkflowBundle } from '@temporalio/worker';
import { bundleOrderWorkflow } from './service-worker';

/**
 * The order workflow's bundle, made by a short-lived child process. Bundling loads webpack, and a process that
 * bundled keeps about 85 MiB more resident for the rest of its life (measured: 304 against 219 MiB for a worker
 * given the same code ready-made; bundling in a worker thread kept it too). The child takes that memory with it.
 */
export function bundleOrderWorkflowApart(): Promise<WorkflowBundle> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let bundle: WorkflowBundle | undefined;
    child.once('message', (message) => {
      bundle = message as WorkflowBundle;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (bundle) resolve(bundle);
      else reject(new Error(`Bundling the order workflow failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** Webpack's progress stays quiet; its warnings and errors reach the parent's stderr. */
const bundlerLogger: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.error(message),
  error: (message) => console.error(message),
};

// Run as the child: bundle, hand the code over the IPC channel, exit.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code } = await bundleOrderWorkflow(bundlerLogger);
  process.send({ code } satisfies WorkflowBundle, () => process.exit(0));
}
