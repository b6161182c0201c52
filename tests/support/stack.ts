import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { DataConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createApp } from '../../src/api/app';
import { defaultActivitySlots } from '../../src/config';
import { recordedOrderCustomerIn } from '../../src/api/placement';
import type { Protection } from '../../src/api/auth';
import { OutboxRelay, wakeOnOutboxCommit } from '../../src/events';
import { applyEvents } from '../../src/read-model';
import {
  applyMigrations,
  createServiceDb,
  disconnectWithin,
  readModelDatabase,
  type ViewsDb,
  pingDatabase,
  seedCatalogue,
  type ServiceDatabases,
  openServiceDatabases,
  closeServiceDatabases,
} from '../../src/db';
import { provisionDatabases } from '../../tooling/db/provision';
import { defaultGatewayClientOptions, type GatewayClient } from '../../src/partners/gateway-client';
import { type CarrierClient } from '../../src/partners/carrier-client';
import { type CarrierProcess, type GatewayProcess } from '../../simulators/launch';
import { withQuerySpans } from '../../src/telemetry/database-spans';
import { clientTracingInterceptors, workerTracing } from '../../src/telemetry/temporal-tracing';
import { createServiceTracing } from '../../src/telemetry/tracing';
import { serviceNames, type ServiceName } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { freePort, startDevServer } from '../../tooling/temporal/servers';
import { createDataConverter } from '../../src/temporal/data-converter';
import { createWorkerMetrics } from '../../src/metrics/worker';
import { bundleOrderWorkflow, createServiceWorker, serviceActivities } from '../../src/workers/service-worker';
import { workerRuntimeMetricsUrl } from '../../src/workers/runtime';
import { serveWorkerStatus, type WorkerStatusServer } from '../../src/workers/status';
import { startPartners } from './partners';
import { approvalThresholdCents } from './sample-orders';
import type { Provider } from './service-databases';
import { installQuietRuntime, quietLogger, testLogger } from './quiet-logger';
import { startTestCodecServer, testPayloadEncryption } from './codec';

export type { Provider };

/**
 * The whole system in one test process, for real: a Temporal dev server, a
 * database per service (SQLite files, or fresh PostgreSQL databases), the
 * four service workers and the API listening on a real port.
 */
export interface Stack {
  baseUrl: string;
  db: ServiceDatabases;
  /** The read model's database, kept current by a relay per service (as in the worker processes). */
  views: ViewsDb;
  temporal: TestWorkflowEnvironment;
  /** The payment gateway process, and the payments worker's client of it (its breaker included). */
  gateway: GatewayProcess;
  gatewayClient: GatewayClient;
  /** The carrier process, and the shipping worker's client of it (its fallback to the flat rate included). */
  carrier: CarrierProcess;
  carrierClient: CarrierClient;
  /** The dev server's Web UI, when started with `webUi: true`. */
  webUiUrl?: string;
  /** Payloads are encrypted as in production, with a key of this stack's own: this converter reads them. */
  dataConverter: DataConverter;
  /** The codec server the Web UI decrypts payloads with, when started with `webUi: true`. */
  codecServerUrl?: string;
  /** Each worker's status page (`GET /health`, `GET /metrics`), when started with `workerStatusPages: true`. */
  workerStatus?: Record<ServiceName, WorkerStatusServer>;
  stop(): Promise<void>;
}

export { approvalThresholdCents };

export { provisionDatabases };

export interface StackOptions {
  /** Overrides of the payments worker's gateway policies (timeout, bulkhead, breaker). */
  gatewayClient?: Partial<typeof defaultGatewayClientOptions>;
  /** Activity slots of the payments worker (default: the processes' default, src/config.ts). */
  paymentsActivitySlots?: number;
  /** API keys and rate limit of the API (default: none, as tests of other concerns want). */
  protection?: Protection;
  /** Serve the dev server's Web UI on a free port (default: headless, as tests of other concerns want). */
  webUi?: boolean;
  /**
   * Serve each worker's status page on a free port, with its metrics as the worker processes do. The Temporal
   * runtime's metrics are there only if the test installed the runtime with a metrics exporter before the stack.
   */
  workerStatusPages?: boolean;
  /** The API's log (default: the tests' quiet one, see tests/support/quiet-logger.ts). */
  apiLogger?: Logger;
  /** Runs the orders worker keeps cached (0: every workflow task replays its run from the start; default: the SDK's). */
  maxCachedWorkflows?: number;
  /** Trace as the processes do, each service (api, worker:orders, ...) into this processor (default: no tracing). */
  spanProcessor?: SpanProcessor;
}

export async function startStack(provider: Provider, options: StackOptions = {}): Promise<Stack> {
  // Before any connection or worker; a test that reads the logs installed its own runtime already.
  installQuietRuntime();
  const databases = await provisionDatabases(provider);
  const partners = await startPartners(options.gatewayClient);
  const { gateway: gatewayClient, carrier: carrierClient } = partners.clients;
  await Promise.all(serviceNames.map((service) => applyMigrations(service, databases.urls[service])));
  await applyMigrations(readModelDatabase, databases.urls.views);
  const db: ServiceDatabases = openServiceDatabases(databases.urls);
  const views = createServiceDb(readModelDatabase, databases.urls.views);
  await seedCatalogue(db.inventory);

  const uiPort = options.webUi ? await freePort() : undefined;
  const encryption = testPayloadEncryption();
  const dataConverter = createDataConverter(encryption);
  const codecServer = uiPort === undefined ? undefined : await startTestCodecServer(encryption, { uiPort });
  const { spanProcessor } = options;
  const apiTracing = spanProcessor && createServiceTracing('api', spanProcessor);
  const temporal = await startDevServer({
    searchAttributes: orderSearchAttributes,
    ...(uiPort === undefined ? {} : { ui: true, uiPort }),
    ...(codecServer && { extraArgs: ['--ui-codec-endpoint', codecServer.url] }),
    // The API's client: the stack's API uses the environment's.
    client: {
      dataConverter,
      interceptors: { workflow: [...(apiTracing ? clientTracingInterceptors(apiTracing) : [])] },
    },
  });
  const workflowBundle = await bundleOrderWorkflow(quietLogger);
  const namespace = temporal.namespace ?? 'default';
  // As in each worker process: a relay per service delivers its outbox to the read model.
  const relays = Object.fromEntries(
    serviceNames.map((service) => [
      service,
      new OutboxRelay(db[service], {
        service,
        deliver: async (events, { signal }) => {
          await applyEvents(views, events, { signal });
        },
      }),
    ]),
  ) as Record<ServiceName, OutboxRelay>;
  const workers: Worker[] = await Promise.all(
    serviceNames.map((service) => {
      const tracing = spanProcessor && createServiceTracing(`worker:${service}`, spanProcessor);
      // The activities' client traces its queries and wakes the relay as the host's does; the tests read through
      // the plain one.
      const tracedDb = tracing ? withQuerySpans(db[service], tracing.tracer, provider) : db[service];
      const serviceDb = wakeOnOutboxCommit(tracedDb, () => relays[service].wake());
      return createServiceWorker(
        service,
        serviceActivities(service, serviceDb, { gateway: gatewayClient, carrier: carrierClient }),
        {
          connection: temporal.nativeConnection,
          namespace,
          workflowBundle,
          dataConverter,
          // As the worker processes run by default, so back-pressure behaves in tests as it does for users.
          activitySlots:
            service === 'payments'
              ? (options.paymentsActivitySlots ?? defaultActivitySlots.payments)
              : defaultActivitySlots[service],
          ...(service === 'orders' && options.maxCachedWorkflows !== undefined
            ? { maxCachedWorkflows: options.maxCachedWorkflows }
            : {}),
          ...(tracing && { tracing: workerTracing(tracing) }),
        },
      );
    }),
  );
  const workersRunning = Promise.all(workers.map((worker) => worker.run()));
  for (const relay of Object.values(relays)) relay.start();
  const workerStatus = options.workerStatusPages
    ? await serveWorkerStatusPages({ gateway: gatewayClient, carrier: carrierClient })
    : undefined;

  const app = createApp({
    client: temporal.client,
    logger: options.apiLogger ?? testLogger('api', 'silent'),
    approval: { thresholdCents: approvalThresholdCents, timeout: '24h' },
    ...(options.protection ? { protection: options.protection } : {}),
    recordedOrderCustomer: recordedOrderCustomerIn(db.orders),
    readModel: { views, serviceDbs: db },
    ...(apiTracing && { tracer: apiTracing.tracer }),
    readinessChecks: [
      { name: 'temporal', check: async () => void (await temporal.connection.workflowService.getSystemInfo({})) },
      ...serviceNames.map((service) => ({ name: `${service}-database`, check: () => pingDatabase(db[service]) })),
    ],
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    db,
    views,
    temporal,
    gateway: partners.gateway.process,
    gatewayClient,
    carrier: partners.carrier.process,
    carrierClient,
    ...(uiPort === undefined ? {} : { webUiUrl: `http://127.0.0.1:${uiPort}` }),
    dataConverter,
    ...(codecServer && { codecServerUrl: codecServer.url }),
    ...(workerStatus && { workerStatus }),
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      await Promise.all(Object.values(workerStatus ?? {}).map((page) => page.close()));
      for (const worker of workers) worker.shutdown();
      await workersRunning;
      await Promise.all(Object.values(relays).map((relay) => relay.stop()));
      // Bounded: see disconnectWithin (the projection's transactions on PostgreSQL).
      if (!(await disconnectWithin(views, 5_000))) console.warn('stack: the views client did not close within 5 s');
      await temporal.teardown();
      await codecServer?.close();
      await closeServiceDatabases(db);
      await databases.drop();
      await partners.stop();
    },
  };
}

/** As src/workers/main.ts serves them: the payments page shows the gateway's breaker, the shipping page the carrier's. */
async function serveWorkerStatusPages(partners: {
  gateway: GatewayClient;
  carrier: CarrierClient;
}): Promise<Record<ServiceName, WorkerStatusServer>> {
  const pages = await Promise.all(
    serviceNames.map(async (service) => {
      const metrics = createWorkerMetrics({
        ...(service === 'payments' && { gateway: partners.gateway }),
        ...(service === 'shipping' && { carrier: partners.carrier }),
        runtimeMetricsUrl: workerRuntimeMetricsUrl(),
      });
      return [service, await serveWorkerStatus(service, await freePort(), () => ({}), { metrics })] as const;
    }),
  );
  return Object.fromEntries(pages) as Record<ServiceName, WorkerStatusServer>;
}
