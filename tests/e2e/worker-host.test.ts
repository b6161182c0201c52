import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config';
import {
  applyMigrations,
  closeServiceDatabases,
  createServiceDb,
  openServiceDatabases,
  readModelDatabase,
  type ServiceDatabases,
  type ViewsDb,
} from '../../src/db';
import { provisionDatabases, type ProvisionedDatabases } from '../../tooling/db/provision';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { launchCarrier, launchGateway, type PartnerProcess } from '../../simulators/launch';
import { launchServiceProcess, type ServiceProcess } from '../../tooling/start/service-process';
import { createDataConverter } from '../../src/temporal/data-converter';
import { orderWorkflowId, orderWorkflowTaskQueue, serviceNames, taskQueues } from '../../src/temporal/names';
import { orderSearchAttributes } from '../../src/temporal/search-attributes';
import { freePort, startDevServer } from '../../tooling/temporal/servers';
import { orderWorkflowType, type OrderSagaInput, type OrderSagaState } from '../../src/workflows/definitions';
import { testProcessKeys } from '../support/codec';
import { withTimeout } from '../support/timeout';

/**
 * `tsx src/workers/main.ts all`, what `npm start` runs: the four service workers in one process, each on its own
 * task queue and database, with its own status page; an order runs to confirmed through them, and SIGTERM drains
 * all four.
 */
describe('the four service workers hosted by one process', () => {
  let dataDir: string;
  let databases: ProvisionedDatabases;
  let temporal: TestWorkflowEnvironment;
  let client: Client;
  let partners: PartnerProcess[] = [];
  let host: ServiceProcess;
  let db: ServiceDatabases;
  let views: ViewsDb;
  const statusPorts = {} as Record<(typeof serviceNames)[number], number>;
  const output: string[] = [];

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'order-saga-host-'));
    databases = await provisionDatabases('sqlite');
    // The API migrates the read model's database; here no API runs, and the relays deliver into it.
    await applyMigrations(readModelDatabase, databases.urls.views);
    const temporalPort = await freePort();
    temporal = await startDevServer({ ip: '127.0.0.1', port: temporalPort, searchAttributes: orderSearchAttributes });
    const [gatewayPort, carrierPort] = [await freePort(), await freePort()];
    partners = [
      await launchGateway({ port: gatewayPort, databaseUrl: `file:${path.join(dataDir, 'gateway.db')}` }),
      await launchCarrier({ port: carrierPort }),
    ];
    for (const service of serviceNames) statusPorts[service] = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_NAMESPACE: 'default',
      PAYLOAD_ENCRYPTION_KEYS: testProcessKeys(),
      PAYMENT_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
      CARRIER_URL: `http://127.0.0.1:${carrierPort}`,
      LOG_LEVEL: 'info',
      ...Object.fromEntries(
        Object.entries(databases.urls).map(([database, url]) => [`${database.toUpperCase()}_DATABASE_URL`, url]),
      ),
      ...Object.fromEntries(
        serviceNames.map((service) => [`${service.toUpperCase()}_WORKER_STATUS_PORT`, String(statusPorts[service])]),
      ),
    };
    // The workers encrypt payloads with the process's key: this client reads them with the same one.
    const dataConverter = createDataConverter(loadConfig(env).payloadEncryption);
    client = new Client({ connection: temporal.client.connection, namespace: 'default', dataConverter });
    host = launchServiceProcess({
      name: 'workers',
      script: 'src/workers/main.ts',
      args: ['all'],
      env,
      onLine: (line) => output.push(line),
    });
    await withTimeout(
      Promise.race([
        host.ready,
        host.closed.then(({ code }) => assert.fail(`the host exited (${code}) before ready:\n${output.join('\n')}`)),
      ]),
      180_000,
      () => `the host was not ready in time:\n${output.join('\n')}`,
    );
    db = openServiceDatabases(databases.urls);
    views = createServiceDb(readModelDatabase, databases.urls.views);
  });

  after(async () => {
    await host?.stop();
    await Promise.all([db && closeServiceDatabases(db), views?.$disconnect()]);
    await temporal?.teardown();
    await Promise.all(partners.map((partner) => partner.stop()));
    await databases?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('each service answers on its own status page, from the one process', async () => {
    for (const service of serviceNames) {
      const response = await fetch(`http://127.0.0.1:${statusPorts[service]}/health`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body.service, service);
      assert.equal(body.status, 'ok');
      if (service === 'payments') assert.ok(body.gateway, 'payments shows its gateway breaker');
      if (service === 'shipping') assert.ok(body.carrier, 'shipping shows its carrier breaker');
    }
    const metrics = await (await fetch(`http://127.0.0.1:${statusPorts.orders}/metrics`)).text();
    for (const service of serviceNames) {
      assert.match(
        metrics,
        new RegExp(`^temporal_\\w+\\{[^}]*task_queue="${taskQueues[service]}"`, 'm'),
        `the runtime's series of the ${service} worker name its task queue`,
      );
    }
  });

  test('an order runs to confirmed through the four workers, each writing its own database', async () => {
    const orderId = `ord_host_${Date.now().toString(36)}`;
    const input: OrderSagaInput = {
      orderId,
      customerId: 'cus_host',
      items: [{ sku: 'SKU-MUG', quantity: 1 }],
      paymentToken: paymentTokens.approved,
      shippingAddress: {
        recipient: 'Grace',
        line1: '2 Harbour Rd',
        city: 'Arlington',
        postalCode: '22201',
        country: 'US',
      },
      approvalThresholdCents: 1_000_000,
      approvalTimeout: '24h',
    };
    const handle = await client.workflow.start(orderWorkflowType, {
      workflowId: orderWorkflowId(orderId),
      taskQueue: orderWorkflowTaskQueue,
      args: [input],
    });
    const state = (await withTimeout(handle.result(), 60_000, () => 'the order did not finish')) as OrderSagaState;
    assert.equal(state.status, 'confirmed');

    assert.equal((await db.orders.order.findUniqueOrThrow({ where: { id: orderId } })).status, 'CONFIRMED');
    assert.equal((await db.inventory.reservation.findFirstOrThrow({ where: { orderId } })).status, 'COMMITTED');
    assert.equal((await db.payments.payment.findFirstOrThrow({ where: { orderId } })).orderId, orderId);
    assert.equal((await db.shipping.shipment.findFirstOrThrow({ where: { orderId } })).status, 'CREATED');
    // The relays of all four outboxes feed one read model: the view ends confirmed, with every service's part.
    // Each relay delivers on its own, so wait for every part, not the first to arrive.
    const deadline = Date.now() + 20_000;
    const expected = ['confirmed', 'committed', 'charged', 'created'];
    const partsOf = (view: Awaited<ReturnType<typeof views.orderView.findUnique>>) => [
      view?.status,
      view?.reservationStatus,
      view?.paymentStatus,
      view?.shipmentStatus,
    ];
    let view = await views.orderView.findUnique({ where: { orderId } });
    while (partsOf(view).some((part, index) => part !== expected[index]) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      view = await views.orderView.findUnique({ where: { orderId } });
    }
    assert.deepEqual(partsOf(view), expected);
  });

  test('SIGTERM drains and stops all four workers, and the process exits cleanly', async () => {
    await host.stop(30_000);
    const { code, signal } = await host.closed;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, output.slice(-10).join('\n'));
    const stopped = output
      .filter((line) => line.includes('"worker stopped"'))
      .map((line) => (JSON.parse(line) as { service: string }).service)
      .sort();
    assert.deepEqual(stopped, [...serviceNames].sort());
  });
});
