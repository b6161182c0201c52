/**
 * `npm run trace:order`: places one order in a whole system run in this process (a Temporal dev server, a fresh
 * SQLite database per service, the payment gateway and the carrier, the four workers and the API, each service
 * tracing as it does in its own process) and prints the order's trace as a tree: span, service, duration.
 *
 * In the deployed processes the same spans go to the exporter OTEL_TRACES_EXPORTER names (`console` prints each as
 * it ends; `otlp` sends them to a collector such as Jaeger); see the README's "Tracing".
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../src/api/app';
import { loadConfig } from '../src/config';
import {
  applyMigrations,
  closeServiceDatabases,
  createServiceDb,
  seedCatalogue,
  serviceNames,
  type ServiceDatabases,
  type ServiceName,
} from '../src/db';
import { provisionDatabases } from '../tooling/db/provision';
import { defaultDraft, orderRequestOf } from '../tooling/cli/scenarios';
import { createCarrierClient, defaultCarrierClientOptions } from '../src/partners/carrier-client';
import { createGatewayClient, defaultGatewayClientOptions } from '../src/partners/gateway-client';
import { launchCarrier, launchGateway } from '../simulators/launch';
import { formatSpanTree } from '../tooling/telemetry/span-tree';
import { clientTracingInterceptors, workerTracing } from '../src/telemetry/temporal-tracing';
import { createServiceTracing, type ServiceTracing } from '../src/telemetry/tracing';
import { orderWorkflowId } from '../src/temporal/names';
import { orderSearchAttributes } from '../src/temporal/search-attributes';
import { freePort, startDevServer } from '../tooling/temporal/servers';
import { createServiceWorker, serviceActivities } from '../src/workers/service-worker';
import { installWorkerRuntime } from '../src/workers/runtime';

/** How long the order may take, end to end, before the script gives up. */
const orderTimeoutMs = 60_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: 'error' });
  installWorkerRuntime({ logger });
  const exporter = new InMemorySpanExporter();
  const spanProcessor = new SimpleSpanProcessor(exporter);
  const apiTracing = createServiceTracing('api', spanProcessor);

  // Undone in reverse, whatever happened.
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    process.stderr.write('starting the system (dev server, databases, partners, workers, API)...\n');
    const databases = await provisionDatabases('sqlite');
    cleanups.push(databases.drop);
    const gatewayDir = mkdtempSync(path.join(tmpdir(), 'order-saga-trace-'));
    cleanups.push(() => Promise.resolve(rmSync(gatewayDir, { recursive: true, force: true })));
    const gateway = await launchGateway({
      port: await freePort(),
      databaseUrl: `file:${path.join(gatewayDir, 'gateway.db')}`,
    });
    cleanups.push(() => gateway.stop());
    const carrier = await launchCarrier({ port: await freePort() });
    cleanups.push(() => carrier.stop());

    await Promise.all(serviceNames.map((service) => applyMigrations(service, databases.urls[service])));
    const tracings = Object.fromEntries(
      serviceNames.map((service) => [service, createServiceTracing(`worker:${service}`, spanProcessor)]),
    ) as Record<ServiceName, ServiceTracing>;
    // Each worker's client traces its queries with its service's tracer.
    const traced = <S extends ServiceName>(service: S) =>
      createServiceDb(service, databases.urls[service], { tracer: tracings[service].tracer });
    const db: ServiceDatabases = {
      orders: traced('orders'),
      inventory: traced('inventory'),
      payments: traced('payments'),
      shipping: traced('shipping'),
    };
    cleanups.push(() => closeServiceDatabases(db));
    await seedCatalogue(db.inventory);

    const temporal = await startDevServer({
      searchAttributes: orderSearchAttributes,
      client: { interceptors: { workflow: clientTracingInterceptors(apiTracing) } },
      progress: () => undefined,
    });
    cleanups.push(() => temporal.teardown());
    const partners = {
      gateway: createGatewayClient({ ...defaultGatewayClientOptions, baseUrl: gateway.url }),
      carrier: createCarrierClient({ ...defaultCarrierClientOptions, baseUrl: carrier.url }),
    };
    // As the worker processes do: the orders worker bundles the workflow (its modules pass the trace to activities).
    const workers: Worker[] = await Promise.all(
      serviceNames.map((service) =>
        createServiceWorker(service, serviceActivities(service, db[service], partners), {
          connection: temporal.nativeConnection,
          namespace: temporal.namespace ?? 'default',
          tracing: workerTracing(tracings[service]),
        }),
      ),
    );
    const running = Promise.all(workers.map((worker) => worker.run()));
    cleanups.push(async () => {
      for (const worker of workers) worker.shutdown();
      await running;
    });

    const app = createApp({
      client: temporal.client,
      logger: pino({ level: 'silent' }),
      readinessChecks: [],
      approval: config.approval,
      tracer: apiTracing.tracer,
    });
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;

    process.stderr.write('placing an order: POST /orders\n');
    const response = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(orderRequestOf(defaultDraft)),
      signal: AbortSignal.timeout(orderTimeoutMs),
    });
    // 202: accepted but not yet decided within the API's wait (a busy machine); the run carries on all the same.
    if (response.status !== 201 && response.status !== 202)
      throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
    const { orderId } = (await response.json()) as { orderId: string };
    const state = (await temporal.client.workflow.getHandle(orderWorkflowId(orderId)).result()) as { status: string };

    // The last step's span ends on its worker as the activity completes, just before the run does.
    const deadline = Date.now() + orderTimeoutMs;
    while (!exporter.getFinishedSpans().some((span) => span.name === 'RunActivity:confirmOrder')) {
      if (Date.now() > deadline) throw new Error('the last activity span was not exported in time');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const request = exporter.getFinishedSpans().find((span) => span.name === 'POST /orders');
    if (!request) throw new Error('the request has no span');
    const { traceId } = request.spanContext();
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    console.log(`order ${orderId}: ${state.status}; trace ${traceId}, ${spans.length} spans\n`);
    console.log(formatSpanTree(spans));
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
