import { loadConfig } from '../config';
import { applyMigrations, createServiceDb, disconnectWithin, seedCatalogue } from '../db';
import { OutboxRelay } from '../events';
import { applyEvents } from '../read-model';
import { createLogger } from '../logger';
import { runtimeMetricsExporter } from '../metrics/runtime-exporter';
import { createWorkerMetrics } from '../metrics/worker';
import { reportReadyToParent, stopWhenParentGoes } from '../parent-process';
import { connectWorker } from '../temporal/connection';
import { createDataConverter } from '../temporal/data-converter';
import { serviceNames, type ServiceName } from '../temporal/names';
import { createCarrierClient } from '../partners/carrier-client';
import { createGatewayClient } from '../partners/gateway-client';
import { workerTracing } from '../telemetry/temporal-tracing';
import { startTracing } from '../telemetry/tracing';
import { createServiceWorker, serviceActivities } from './service-worker';
import { installWorkerRuntime, workerRuntimeMetricsUrl } from './runtime';
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
  // First: without a key (and encryption not turned off) the worker refuses to start, saying how to make one.
  const dataConverter = createDataConverter(config.payloadEncryption);
  const logger = createLogger(`worker:${service}`, config.logLevel);
  // Before any connection or worker: the SDK's, workflows' and activities' lines go to the same JSON log.
  // Core's metrics exporter only when the status page is on: its GET /metrics is where they are served.
  const statusPort = config.workerStatusPorts[service];
  installWorkerRuntime({ logger, ...(statusPort !== 0 && { metrics: await runtimeMetricsExporter() }) });
  const url = config.databaseUrls[service];

  await prepareDatabase(service, url);
  const tracing = startTracing(`worker:${service}`, config.tracing);
  const db = createServiceDb(service, url, tracing && { tracer: tracing.tracer });
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

  const connection = await connectWorker(config.temporal.endpoint);
  try {
    const gateway = createGatewayClient(config.gateway);
    const carrier = createCarrierClient(config.carrier);
    const worker = await createServiceWorker(service, serviceActivities(service, db, { gateway, carrier }), {
      connection,
      namespace: config.temporal.namespace,
      activitySlots: config.activitySlots[service],
      dataConverter,
      ...(tracing && { tracing: workerTracing(tracing) }),
      ...(config.temporal.workerDeployment && { deploymentVersion: config.temporal.workerDeployment }),
    });
    const partnerStatus: Partial<Record<ServiceName, () => object>> = {
      payments: () => ({ gateway: gateway.status() }),
      shipping: () => ({ carrier: carrier.status() }),
    };
    const metrics = createWorkerMetrics({
      ...(service === 'payments' && { gateway }),
      ...(service === 'shipping' && { carrier }),
      runtimeMetricsUrl: workerRuntimeMetricsUrl(),
    });
    const status = await serveWorkerStatus(service, statusPort, () => ({ ...partnerStatus[service]?.() }), {
      metrics,
      host: config.workerStatusHost,
    });
    logger.info(
      {
        taskQueue: worker.options.taskQueue,
        deploymentVersion: worker.options.workerDeploymentOptions?.version ?? 'unversioned',
        activitySlots: config.activitySlots[service],
        status: status.url,
        metrics: status.metricsUrl,
      },
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
    // The last spans (an OTLP batch waits up to 5 s) leave before the process does.
    await tracing?.forceFlush();
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
