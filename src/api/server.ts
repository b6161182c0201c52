import { Client } from '@temporalio/client';
import { loadConfig } from '../config';
import {
  applyMigrations,
  createServiceDb,
  disconnectWithin,
  openServiceDatabases,
  pingDatabase,
  readModelDatabase,
} from '../db';
import { serveHttp } from '../http/serve';
import { createLogger } from '../logger';
import { processRegistry } from '../metrics/process';
import { clientTracingInterceptors } from '../telemetry/temporal-tracing';
import { startTracing } from '../telemetry/tracing';
import { lazyClientConnection } from '../temporal/connection';
import { createDataConverter } from '../temporal/data-converter';
import { serviceNames } from '../temporal/names';
import { createApp } from './app';
import type { ReadinessCheck } from './health';
import { recordedOrderCustomerIn } from './placement';

async function main(): Promise<void> {
  const config = loadConfig();
  // First: without a key (and encryption not turned off) the API refuses to start, saying how to make one.
  const dataConverter = createDataConverter(config.payloadEncryption);
  const logger = createLogger('api', config.logLevel);
  const { auth, rateLimitPerMinute } = config.api;
  if (auth.mode === 'off') {
    logger.warn('API_AUTH=off: no API key is asked for, every caller may do everything (development only)');
  } else if (auth.keys.length === 0) {
    throw new Error(
      'API_AUTH=required but API_KEYS is empty: no one could call the order routes. Add keys ' +
        '(<name>:<customer|operator>:<sha256>, hash with `npx tsx scripts/hash-api-key.ts <key>`) or set API_AUTH=off',
    );
  } else {
    const roles = auth.keys.map(({ name, role }) => `${name} (${role})`);
    logger.info({ keys: roles, rateLimitPerMinute }, 'API keys required on the order routes');
  }

  // Lazy, so the API starts while Temporal is down and reports it in /health/ready (503)
  // instead of crash-looping.
  const connection = lazyClientConnection(config.temporal.endpoint);
  const tracing = startTracing('api', config.tracing);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter,
    // The workflow start, updates and queries: spans under the request's, their context sent to the workflow.
    interceptors: { workflow: [...(tracing ? clientTracingInterceptors(tracing) : [])] },
  });
  const serviceDbs = openServiceDatabases(config.databaseUrls);
  const databases = serviceNames.map((service) => ({ service, db: serviceDbs[service] }));
  // The API reads the read model, so it brings that database to the latest migration (each worker does its own).
  await applyMigrations(readModelDatabase, config.viewsDatabaseUrl);
  const views = createServiceDb(readModelDatabase, config.viewsDatabaseUrl, tracing && { tracer: tracing.tracer });

  const readinessChecks: ReadinessCheck[] = [
    {
      name: 'temporal',
      check: async () => {
        await connection.workflowService.getSystemInfo({});
      },
    },
    ...databases.map(({ service, db }) => ({ name: `${service}-database`, check: () => pingDatabase(db) })),
    { name: `${readModelDatabase}-database`, check: () => pingDatabase(views) },
  ];

  const app = createApp({
    client,
    logger,
    readinessChecks,
    approval: config.approval,
    deadlines: config.deadlines,
    protection: { auth, rateLimitPerMinute },
    recordedOrderCustomer: recordedOrderCustomerIn(serviceDbs.orders),
    readModel: { views, serviceDbs },
    ...(tracing && { tracer: tracing.tracer }),
    metricsRegistry: processRegistry(),
  });
  await serveHttp({
    name: 'api',
    app,
    host: config.api.host,
    port: config.api.port,
    logger,
    onStopped: () =>
      Promise.all([
        connection.close(),
        disconnectWithin(views, 5_000),
        ...databases.map(({ db }) => db.$disconnect()),
        tracing?.forceFlush(),
      ]),
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
