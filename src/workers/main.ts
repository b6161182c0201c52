import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config';
import { applyMigrations, createServiceDb, disconnectWithin, seedCatalogue } from '../db';
import { OutboxRelay } from '../events';
import { applyEvents } from '../read-model';
import { createLogger } from '../logger';
import { reportReadyToParent, stopWhenParentGoes } from '../parent-process';
import { serviceNames, type ServiceName } from '../temporal/names';
import { createCarrierClient } from '../partners/carrier-client';
import { createGatewayClient } from '../partners/gateway-client';
import { createServiceWorker, serviceActivities } from './service-worker';
import { serveWorkerStatus } from './status';

/** `tsx src/workers/main.ts <service>`: migrates the service's database, then polls its queue. */
async function main(): Promise<void> {
  const service = process.argv[2];
  if (!serviceNames.includes(service as ServiceName)) {
    throw new Error(`Usage: tsx src/workers/main.ts <${serviceNames.join('|')}> (got ${service ?? 'nothing'})`);
  }
  await runServiceWorker(service as ServiceName);
}

async function runServiceWorker(service: ServiceName): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(`worker:${service}`, config.logLevel);
  const url = config.databaseUrls[service];

  await prepareDatabase(service, url);
  const db = createServiceDb(service, url);
  // The relay delivers this service's outbox to the read model's projection (the API migrates its database; until
  // then deliveries fail and are retried).
  const views = createServiceDb('views', config.viewsDatabaseUrl);
  const relay = new OutboxRelay(db, {
    service,
    deliver: async (events, { signal }) => {
      await applyEvents(views, events, { signal });
    },
    logger: logger.child({ component: 'outbox-relay' }),
  });

  const connection = await NativeConnection.connect({ address: config.temporal.address }).catch((error: unknown) => {
    throw new Error(
      `Cannot reach Temporal at ${config.temporal.address} (${error instanceof Error ? error.message : String(error)}). ` +
        'Start one with `npm start`, or set TEMPORAL_ADDRESS.',
    );
  });
  try {
    const gateway = createGatewayClient(config.gateway);
    const carrier = createCarrierClient(config.carrier);
    const worker = await createServiceWorker(service, serviceActivities(service, db, { gateway, carrier }), {
      connection,
      namespace: config.temporal.namespace,
      activitySlots: config.activitySlots[service],
    });
    const partnerStatus: Partial<Record<ServiceName, () => object>> = {
      payments: () => ({ gateway: gateway.status() }),
      shipping: () => ({ carrier: carrier.status() }),
    };
    const status = await serveWorkerStatus(service, config.workerStatusPorts[service], () => ({
      ...partnerStatus[service]?.(),
    }));
    logger.info(
      { taskQueue: worker.options.taskQueue, activitySlots: config.activitySlots[service], status: status.url },
      'worker polling',
    );
    relay.start();
    reportReadyToParent();
    stopWhenParentGoes(logger, () => process.kill(process.pid, 'SIGTERM'));
    // Resolves once SIGINT/SIGTERM has drained in-flight tasks (the SDK installs those handlers).
    await worker.run();
    // After the worker: the last activities' events are in the outbox, and the relay's batch in flight ends.
    await relay.stop();
    logger.info('worker stopped');
    await status.close();
  } finally {
    await connection.close();
    const [, viewsClosed] = await Promise.all([db.$disconnect(), disconnectWithin(views, 5_000)]);
    if (!viewsClosed) logger.warn('the read model database did not disconnect within 5 s; exiting anyway');
  }
}

/** Brings the service's database to the latest migration; inventory also gets its catalogue. */
async function prepareDatabase(service: ServiceName, url: string): Promise<void> {
  await applyMigrations(service, url);
  if (service !== 'inventory') return;
  const inventory = createServiceDb('inventory', url);
  try {
    await seedCatalogue(inventory);
  } finally {
    await inventory.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
