import { fileURLToPath } from 'node:url';

/**
 * The workflow interceptor modules in every bundle of the order workflow: the orders worker's, the tests' and the
 * replay suite's. They are workflow code, so they are the same whatever the configuration (tracing on or off); both
 * only pass context along, synchronously, and issue no command.
 */
export const orderWorkflowInterceptorModules: readonly string[] = [
  fileURLToPath(new URL('./workflow-log-context.ts', import.meta.url)),
  fileURLToPath(new URL('./workflow-trace-context.ts', import.meta.url)),
];
