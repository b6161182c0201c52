import type { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { AppConfig } from '../config';
import { applyMigrations, createServiceDb, disconnectWithin, seedCatalogue } from '../db';
import { OutboxRelay, wakeOnOutboxCommit } from '../events';
import { createWorkerMetrics } from '../metrics/worker';
import { createCarrierClient } from '../partners/carrier-client';
import { createGatewayClient } from '../partners/gateway-client';
import { applyEvents } from '../read-model';
import { connectWorker } from '../temporal/connection';
import { createDataConverter } from '../temporal/data-converter';
import type { ServiceName } from '../temporal/names';
import { workerTracing } from '../telemetry/temporal-tracing';
import { createServiceTracing, spanProcessorFor } from '../telemetry/tracing';
import { bundleOrderWorkflowApart } from './bundle-workflow';
import { createServiceWorker, serviceActivities } from './service-worker';
import { workerRuntimeMetricsUrl } from './runtime';
import { serveWorkerStatus, type WorkerStatusServer } from './status';

/**
 * Service workers hosted by one process: each still polls only its own task queue, runs only its own activities and
 * owns its own database (client, migrations, outbox relay, status page), so a service runs the same alone
 * (`tsx src/workers/main.ts orders`, one container per service in compose) as beside the others
 * (`tsx src/workers/main.ts all`, what `npm start` runs). What the services share in one process is what is per
 * process anyway: the Temporal runtime, its connection, the read model's database client, the metrics registry.
 */
export interface ServiceWorkerHost {
  readonly services: readonly ServiceName[];
  /** Each hosted service's status page (`url` undefined where its port is 0). */
  readonly status: Readonly<Partial<Record<ServiceName, WorkerStatusServer>>>;
  /**
   * Polls until every worker has stopped (SIGINT/SIGTERM, which the SDK turns into a drain of every worker of the
   * process, or {@link shutdown}), then stops the relays, closes the pages and the connections. If one worker fails,
   * the others are stopped too and its error is thrown.
   */
  run(): Promise<void>;
  /** Starts the drain of every worker, as SIGTERM does. */
  shutdown(): void;
}

export interface ServiceWorkerHostOptions {
  config: AppConfig;
  /** The process's log; each service logs through a child naming it. */
  logger: Logger;
}

interface HostedService {
  service: ServiceName;
  logger: Logger;
  worker: Worker;
  relay: OutboxRelay;
  db: { $disconnect(): Promise<void> };
  status: WorkerStatusServer;
}

/**
 * Migrates each service's database, then creates its worker, relay and status page, all in this process, which must
 * have installed its Temporal runtime already (installWorkerRuntime). Nothing polls until {@link ServiceWorkerHost.run}.
 */
export async function startServiceWorkerHost(
  services: readonly ServiceName[],
  { config, logger }: ServiceWorkerHostOptions,
): Promise<ServiceWorkerHost> {
  // First: without a key (and encryption not turned off) the worker refuses to start, saying how to make one.
  const dataConverter = createDataConverter(config.payloadEncryption);
  const [workflowBundle] = await Promise.all([
    services.includes('orders') ? bundleOrderWorkflowApart() : undefined,
    ...services.map((service) => prepareDatabase(service, config.databaseUrls[service])),
  ]);
  const spanProcessor = spanProcessorFor(config.tracing);
  // The relays deliver the outboxes to the read model's projection (the API migrates its database; until then
  // deliveries fail and are retried). One client for every relay of the process: they write the same database.
  const views = createServiceDb('views', config.viewsDatabaseUrl);
  const gateway = createGatewayClient(config.gateway);
  const carrier = createCarrierClient(config.carrier);
  // One exposition per process: Core's series name their task queue, the breakers their partner.
  const metrics = createWorkerMetrics({
    ...(services.includes('payments') && { gateway }),
    ...(services.includes('shipping') && { carrier }),
    runtimeMetricsUrl: workerRuntimeMetricsUrl(),
  });
  const partnerStatus: Partial<Record<ServiceName, () => object>> = {
    payments: () => ({ gateway: gateway.status() }),
    shipping: () => ({ carrier: carrier.status() }),
  };
  const hosted: HostedService[] = [];
  const connection = await connectWorker(config.temporal.endpoint);
  const closeAll = async () => {
    await Promise.all(hosted.map(({ status }) => status.close()));
    await connection.close();
    const [viewsClosed] = await Promise.all([
      disconnectWithin(views, 5_000),
      ...hosted.map(({ db }) => db.$disconnect()),
    ]);
    if (!viewsClosed) logger.warn('the read model database did not disconnect within 5 s; exiting anyway');
  };
  try {
    for (const service of services) {
      const serviceLogger = logger.child({ service });
      const tracing = spanProcessor && createServiceTracing(`worker:${service}`, spanProcessor);
      const db = createServiceDb(service, config.databaseUrls[service], tracing && { tracer: tracing.tracer });
      const relay = new OutboxRelay(db, {
        service,
        deliver: async (events, { signal }) => {
          await applyEvents(views, events, { signal });
        },
        logger: serviceLogger.child({ component: 'outbox-relay' }),
      });
      // The activities' commits that wrote events wake the relay, which may be sleeping off an idle spell.
      const activitiesDb = wakeOnOutboxCommit(db, () => relay.wake());
      const activities = serviceActivities(service, activitiesDb, { gateway, carrier });
      const worker = await createServiceWorker(service, activities, {
        connection,
        namespace: config.temporal.namespace,
        activitySlots: config.activitySlots[service],
        dataConverter,
        ...(service === 'orders' && workflowBundle && { workflowBundle }),
        ...(tracing && { tracing: workerTracing(tracing) }),
        ...(config.temporal.workerDeployment && { deploymentVersion: config.temporal.workerDeployment }),
      });
      const status = await serveWorkerStatus(
        service,
        config.workerStatusPorts[service],
        () => ({ ...partnerStatus[service]?.() }),
        { metrics, host: config.workerStatusHost },
      );
      hosted.push({ service, logger: serviceLogger, worker, relay, db, status });
      serviceLogger.info(
        {
          taskQueue: worker.options.taskQueue,
          deploymentVersion: worker.options.workerDeploymentOptions?.version ?? 'unversioned',
          activitySlots: config.activitySlots[service],
          status: status.url,
          metrics: status.metricsUrl,
        },
        'worker polling',
      );
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  const shutdown = () => {
    for (const { worker } of hosted) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    services,
    status: Object.fromEntries(hosted.map(({ service, status }) => [service, status])),
    shutdown,
    async run() {
      const runs = hosted.map(({ worker }) =>
        worker.run().catch((error: unknown) => {
          // One service's worker failing stops the process's others: a host is up whole or not at all.
          shutdown();
          throw error;
        }),
      );
      for (const { relay } of hosted) relay.start();
      const outcomes = await Promise.allSettled(runs);
      // After the workers: the last activities' events are in the outboxes, and each relay's batch in flight ends.
      await Promise.all(hosted.map(({ relay }) => relay.stop()));
      for (const stopped of hosted) stopped.logger.info('worker stopped');
      await closeAll();
      // The last spans (an OTLP batch waits up to 5 s) leave before the process does.
      await spanProcessor?.forceFlush();
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
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
