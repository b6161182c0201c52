import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  applyMigrations,
  closeServiceDatabases,
  openServiceDatabases,
  seedCatalogue,
  type ServiceDatabases,
} from '../../src/db';
import { provisionDatabases } from '../../tooling/db/provision';
import {
  createGatewayClient,
  defaultGatewayClientOptions,
  type GatewayClient,
} from '../../src/partners/gateway-client';
import { type GatewayProcess } from '../../simulators/launch';
import { serviceNames } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { startTimeSkippingServer } from '../../tooling/temporal/servers';
import { bundleOrderWorkflow, createServiceWorker, serviceActivities } from '../../src/workers/service-worker';
import type { FaultInjector } from './fault-injection';
import { startPartners } from './partners';
import { installQuietRuntime, quietLogger } from './quiet-logger';
import type { Provider } from './stack';

/**
 * The real services on the time-skipping server: the four workers run the real activities (through a fault
 * injector) against real databases of one provider, the real payment gateway and carrier processes. Timers and
 * retry backoff pass in no time while the test waits on a run's result or sleeps the environment.
 */
export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  db: ServiceDatabases;
  gateway: GatewayProcess;
  /** A client of the gateway for reading its store (the payments worker has its own). */
  gatewayReader: GatewayClient;
  stop(): Promise<void>;
}

export async function startTimeSkippingStack(provider: Provider, faults: FaultInjector): Promise<TimeSkippingStack> {
  installQuietRuntime();
  const stopping: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stopping.reverse()) await step();
  };
  try {
    const databases = await provisionDatabases(provider);
    stopping.push(databases.drop);
    const partners = await startPartners();
    stopping.push(() => partners.stop());
    await Promise.all(serviceNames.map((service) => applyMigrations(service, databases.urls[service])));
    const db = openServiceDatabases(databases.urls);
    stopping.push(() => closeServiceDatabases(db));
    await seedCatalogue(db.inventory);

    const env = await startTimeSkippingServer({ searchAttributes: orderSearchAttributes });
    stopping.push(() => env.teardown());
    const workflowBundle = await bundleOrderWorkflow(quietLogger);
    const workers: Worker[] = await Promise.all(
      serviceNames.map((service) =>
        createServiceWorker(service, faults.wrap(serviceActivities(service, db[service], partners.clients)), {
          connection: env.nativeConnection,
          namespace: env.namespace ?? 'default',
          workflowBundle,
        }),
      ),
    );
    const running = Promise.all(workers.map((worker) => worker.run()));
    stopping.push(async () => {
      for (const worker of workers) worker.shutdown();
      await running;
    });
    return {
      env,
      db,
      gateway: partners.gateway.process,
      gatewayReader: createGatewayClient({ ...defaultGatewayClientOptions, baseUrl: partners.gateway.process.url }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
