import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { serviceNames, type ServiceName } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { startTimeSkippingServer } from '../../tooling/temporal/servers';
import { bundleOrderWorkflow, createServiceWorker } from '../../src/workers/service-worker';
import { installQuietRuntime, quietLogger } from './quiet-logger';
import type { ScriptedServices } from './scripted-services';

export interface ScriptedSaga {
  env: TestWorkflowEnvironment;
  /** Shuts the service's worker down, as an outage of its processes would; the returned function starts a new one. */
  stopWorker(service: ServiceName): Promise<() => Promise<void>>;
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
    const startWorker = async (service: ServiceName) => {
      const worker = await createServiceWorker(service, activities[service], {
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        workflowBundle,
      });
      return { worker, running: worker.run() };
    };
    const workers = new Map(
      await Promise.all(serviceNames.map(async (service) => [service, await startWorker(service)] as const)),
    );
    const stopWorker = async (service: ServiceName) => {
      const { worker, running } = workers.get(service)!;
      worker.shutdown();
      await running;
      workers.delete(service);
      return async () => {
        workers.set(service, await startWorker(service));
      };
    };
    return {
      env,
      stopWorker,
      async stop() {
        for (const { worker } of workers.values()) worker.shutdown();
        await Promise.all([...workers.values()].map(({ running }) => running));
        await env.teardown();
      },
    };
  } catch (error) {
    await env.teardown();
    throw error;
  }
}
