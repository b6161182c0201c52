import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { serviceNames } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { startTimeSkippingServer } from '../../src/temporal/servers';
import { bundleOrderWorkflow, createServiceWorker } from '../../src/workers/service-worker';
import { installQuietRuntime, quietLogger } from './quiet-logger';
import type { ScriptedServices } from './scripted-services';

export interface ScriptedSaga {
  env: TestWorkflowEnvironment;
  /** Shuts the workers down, then the server. */
  stop(): Promise<void>;
}

/**
 * The real order workflow on the time-skipping server, with a worker per
 * service running the scripted stand-ins for the services' activities.
 */
export async function startScriptedSaga(services: ScriptedServices): Promise<ScriptedSaga> {
  // The workflow's log lines and the scripted failures' warnings would drown the test report.
  installQuietRuntime();
  const env = await startTimeSkippingServer({ searchAttributes: orderSearchAttributes });
  try {
    const workflowBundle = await bundleOrderWorkflow(quietLogger);
    const activities = services.activities();
    const workers = await Promise.all(
      serviceNames.map((service) =>
        createServiceWorker(service, activities[service], {
          connection: env.nativeConnection,
          namespace: env.namespace ?? 'default',
          workflowBundle,
        }),
      ),
    );
    const running = Promise.all(workers.map((worker) => worker.run()));
    return {
      env,
      async stop() {
        for (const worker of workers) worker.shutdown();
        await running;
        await env.teardown();
      },
    };
  } catch (error) {
    await env.teardown();
    throw error;
  }
}
