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
 * `tsx bench/bare/worker.ts <service>`: the bare workflow's worker for one service's queue, a process of its own like
 * the service workers (src/workers/main.ts), with the same activity slots, minus databases and partners.
 */
async function main(): Promise<void> {
  const service = process.argv[2] as ServiceName;
  if (!serviceNames.includes(service)) {
    throw new Error(
      `Usage: tsx bench/bare/worker.ts <${serviceNames.join('|')}> (got ${process.argv[2] ?? 'nothing'})`,
    );
  }
  const config = loadConfig();
  const logger = createLogger(`bare-worker:${service}`, config.logLevel);
  installWorkerRuntime({ logger });
  const connection = await connectWorker(config.temporal.endpoint);
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: bareTaskQueues[service],
      activities,
      ...(service === 'orders' ? { workflowsPath } : {}),
      maxConcurrentActivityTaskExecutions: config.activitySlots[service],
    });
    reportReadyToParent();
    stopWhenParentGoes(logger, () => process.kill(process.pid, 'SIGTERM'));
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
