import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import type { Protection } from '../../src/api/auth';
import { OutboxRelay } from '../../src/events';
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
import { provisionDatabases } from '../../src/db/provision';
import {
  defaultGatewayClientOptions,
  createGatewayClient,
  type GatewayClient,
} from '../../src/partners/gateway-client';
import {
  createCarrierClient,
  defaultCarrierClientOptions,
  type CarrierClient,
} from '../../src/partners/carrier-client';
import { launchCarrier, launchGateway, type CarrierProcess, type GatewayProcess } from '../../src/partners/launch';
import { serviceNames } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { freePort, startDevServer } from '../../src/temporal/servers';
import { createServiceWorker, serviceActivities, workflowsPath } from '../../src/workers/service-worker';
import { quietLogger } from './quiet-logger';

// The workers log every failed activity attempt at WARN; the tests fail those on purpose by the hundred, and read
// outcomes from the databases and histories instead. Installed once per test process, before any worker exists.
Runtime.install({ logger: new DefaultLogger('ERROR') });

export type Provider = 'sqlite' | 'postgres';

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
  stop(): Promise<void>;
}

export const approvalThresholdCents = 100_000;

export { provisionDatabases };

export interface StackOptions {
  /** Overrides of the payments worker's gateway policies (timeout, bulkhead, breaker). */
  gatewayClient?: Partial<typeof defaultGatewayClientOptions>;
  /** Activity slots of the payments worker (default: the SDK's). */
  paymentsActivitySlots?: number;
  /** API keys and rate limit of the API (default: none, as tests of other concerns want). */
  protection?: Protection;
  /** Serve the dev server's Web UI on a free port (default: headless, as tests of other concerns want). */
  webUi?: boolean;
}

export async function startStack(provider: Provider, options: StackOptions = {}): Promise<Stack> {
  const databases = await provisionDatabases(provider);
  const gatewayDir = mkdtempSync(path.join(tmpdir(), 'order-saga-gateway-'));
  const gateway = await launchGateway({
    port: await freePort(),
    databaseUrl: `file:${path.join(gatewayDir, 'gateway.db')}`,
  });
  const gatewayClient = createGatewayClient({
    ...defaultGatewayClientOptions,
    ...options.gatewayClient,
    baseUrl: gateway.url,
  });
  const carrier = await launchCarrier({ port: await freePort() });
  const carrierClient = createCarrierClient({ ...defaultCarrierClientOptions, baseUrl: carrier.url });
  await Promise.all(serviceNames.map((service) => applyMigrations(service, databases.urls[service])));
  await applyMigrations(readModelDatabase, databases.urls.views);
  const db: ServiceDatabases = openServiceDatabases(databases.urls);
  const views = createServiceDb(readModelDatabase, databases.urls.views);
  await seedCatalogue(db.inventory);

  const uiPort = options.webUi ? await freePort() : undefined;
  const temporal = await startDevServer({
    searchAttributes: orderSearchAttributes,
    ...(uiPort === undefined ? {} : { ui: true, uiPort }),
  });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  const namespace = temporal.namespace ?? 'default';
  const workers: Worker[] = await Promise.all(
    serviceNames.map((service) =>
      createServiceWorker(
        service,
        serviceActivities(service, db[service], { gateway: gatewayClient, carrier: carrierClient }),
        {
          connection: temporal.nativeConnection,
          namespace,
          workflowBundle,
          activitySlots: service === 'payments' ? options.paymentsActivitySlots : undefined,
        },
      ),
    ),
  );
  const workersRunning = Promise.all(workers.map((worker) => worker.run()));
  // As in each worker process: a relay per service delivers its outbox to the read model.
  const relays = serviceNames.map(
    (service) =>
      new OutboxRelay(db[service], {
        service,
        deliver: async (events, { signal }) => {
          await applyEvents(views, events, { signal });
        },
      }),
  );
  for (const relay of relays) relay.start();

  const app = createApp({
    client: temporal.client,
    logger: pino({ level: 'silent' }),
    approval: { thresholdCents: approvalThresholdCents, timeout: '24h' },
    ...(options.protection ? { protection: options.protection } : {}),
    readModel: { views, serviceDbs: db },
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
    gateway,
    gatewayClient,
    carrier,
    carrierClient,
    ...(uiPort === undefined ? {} : { webUiUrl: `http://127.0.0.1:${uiPort}` }),
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      for (const worker of workers) worker.shutdown();
      await workersRunning;
      await Promise.all(relays.map((relay) => relay.stop()));
      // Bounded: see disconnectWithin (the projection's transactions on PostgreSQL).
      if (!(await disconnectWithin(views, 5_000))) console.warn('stack: the views client did not close within 5 s');
      await temporal.teardown();
      await closeServiceDatabases(db);
      await databases.drop();
      await gateway.stop();
      await carrier.stop();
      rmSync(gatewayDir, { recursive: true, force: true });
    },
  };
}
