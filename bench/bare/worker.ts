import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { reportReadyToParent, stopWhenParentGoes } from '../../src/parent-process';
import { connectWorker } from '../../src/temporal/connection';
import { serviceNames, type ServiceName } from '../../src/temporal/names';
import { installWorkerRuntime } from '../../src/workers/runtime';
import * as activities from './activities';
import { bareTaskQueues } from './queues';

const workflowsPath = fileURLToPath(new URL('./workflows.ts', import.meta.url));

/**
 * `tsx bench/bare/worker.ts <service>... | all`: the bare workflow's workers for the named services' queues, laid out
 * as the service workers are (src/workers/main.ts: one process per service, or all four in one), with the same
 * activity slots, minus databases and partners.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const services = args.length === 1 && args[0] === 'all' ? [...serviceNames] : (args as ServiceName[]);
  if (services.length === 0 || services.some((service) => !serviceNames.includes(service))) {
    throw new Error(
      `Usage: tsx bench/bare/worker.ts <${serviceNames.join('|')}>... | all (got ${args.join(' ') || 'nothing'})`,
    );
  }
  const config = loadConfig();
  const name = services.length === 1 ? `bare-worker:${services[0]}` : 'bare-workers';
  const logger = createLogger(name, config.logLevel);
  installWorkerRuntime({ logger });
  const connection = await connectWorker(config.temporal.endpoint);
  try {
    const workers = await Promise.all(
      services.map((service) =>
        Worker.create({
          connection,
          namespace: config.temporal.namespace,
          taskQueue: bareTaskQueues[service],
          activities,
          ...(service === 'orders' ? { workflowsPath } : {}),
          maxConcurrentActivityTaskExecutions: config.activitySlots[service],
        }),
      ),
    );
    reportReadyToParent();
    stopWhenParentGoes(logger, () => process.kill(process.pid, 'SIGTERM'));
    // SIGINT/SIGTERM drains every worker of the process (the SDK's handlers).
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
