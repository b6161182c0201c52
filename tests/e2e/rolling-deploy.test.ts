import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, isGrpcServiceError, type WorkflowHandle } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import proto from '@temporalio/proto';
import pg from 'pg';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createApp } from '../../src/api/app';
import { defaultActivitySlots } from '../../src/config';
import {
  applyMigrations,
  closeServiceDatabases,
  openServiceDatabases,
  readModelDatabase,
  seedCatalogue,
  type ServiceDatabases,
} from '../../src/db';
import { provisionDatabases } from '../../tooling/db/provision';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { orderWorkflowInterceptorModules } from '../../src/interceptors/workflow-modules';
import { createCarrierClient, defaultCarrierClientOptions } from '../../src/partners/carrier-client';
import { createGatewayClient, defaultGatewayClientOptions } from '../../src/partners/gateway-client';
import { launchCarrier, launchGateway, type CarrierProcess, type GatewayProcess } from '../../simulators/launch';
import { createDataConverter } from '../../src/temporal/data-converter';
import { orderIdOfWorkflow, orderWorkflowId, type ServiceName } from '../../src/temporal/names';
import { freePort } from '../../src/net/ports';
import { bundleOrderWorkflow, createServiceWorker, serviceActivities } from '../../src/workers/service-worker';
import { getOrderState, type OrderSagaState } from '../../src/workflows/definitions';
import type { orderSaga } from '../../src/workflows/order-saga';
import { startedByBuild, startedByBuildMemo } from '../fixtures/order-saga-v2/marker';
import { testPayloadEncryption } from '../support/codec';
import { installQuietRuntime, quietLogger, testLogger } from '../support/quiet-logger';
import { startCluster } from '../../tooling/cluster/cluster';
import { runScript } from '../support/run-script';
import { clusterTestSkip } from '../support/cluster-skip';
import { londonAddress } from '../support/sample-orders';

/**
 * A rolling deploy of a changed order workflow, with Worker Deployment Versioning: orders started on build v1 wait
 * for approval while build v2 (tests/fixtures/order-saga-v2: a change that would break their replay) becomes
 * current; they finish on v1's workers, new orders start and finish on v2's; then v1 drains, its workers stop and
 * it is retired. A query on its closed orders then goes unanswered, but GET /orders/{id} reads their state from
 * history. The promotion goes through `npm run deploy:version`, as an operator's would.
 */

const { VersionDrainageStatus, WorkerDeploymentVersionStatus, VersioningBehavior, EventType } =
  proto.temporal.api.enums.v1;

/** A deployment of this test's own: a cluster's state outlives a run. */
const deploymentName = `order-saga-rolling-${Date.now().toString(36)}`;
const v1: WorkerDeploymentVersion = { deploymentName, buildId: 'v1' };
const v2: WorkerDeploymentVersion = { deploymentName, buildId: 'v2' };

/**
 * The server's intervals behind drainage and retirement, short so the test sees them in seconds (defaults: 3 min
 * before a version no longer current is checked for open runs, every 3 min after; a stopped worker counts as polling
 * for 5 min, and a version with pollers cannot be deleted).
 */
const fastDrainage = {
  'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '2s',
  'matching.wv.VersionDrainageStatusRefreshInterval': '2s',
  'matching.PollerHistoryTTL': '3s',
};

const approvalThresholdCents = 100_000;
const v2WorkflowsPath = fileURLToPath(new URL('../fixtures/order-saga-v2/index.ts', import.meta.url));

/** A laptop costs more than the approval threshold: the order waits for an operator, open, on the build it began on. */
const orderNeedingApproval = {
  customerId: 'cus_rolling',
  items: [{ sku: 'SKU-LAPTOP', quantity: 1 }],
  payment: { token: paymentTokens.approved },
  shippingAddress: londonAddress,
};

const postgresUrl = process.env.TEST_POSTGRES_URL;
const clusterName = 'temporal_deploy_test';

interface TemporalUnderTest {
  address: string;
  namespace: string;
  stop(): Promise<void>;
}

/**
 * The real cluster (tooling/cluster), started fresh: a deployment's versions and routing live in the cluster's
 * databases, and a run left over from an earlier test would still own the orders queue's routing.
 */
async function startTemporal(adminUrl: string): Promise<TemporalUnderTest> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const database of [clusterName, `${clusterName}_visibility`]) {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
  const root = mkdtempSync(path.join(tmpdir(), 'order-saga-deploy-cluster-'));
  const cluster = await startCluster({ postgresUrl: adminUrl, name: clusterName, root, dynamicConfig: fastDrainage });
  return {
    address: cluster.address,
    namespace: cluster.namespace,
    stop: async () => {
      await cluster.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const skip = clusterTestSkip(postgresUrl);

describe('a rolling deploy of the order workflow', { skip }, () => {
  let server: TemporalUnderTest;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let databases: Awaited<ReturnType<typeof provisionDatabases>>;
  let db: ServiceDatabases;
  let gateway: GatewayProcess;
  let carrier: CarrierProcess;
  let gatewayDir: string;
  let api: Server;
  let baseUrl: string;
  let v1Bundle: WorkflowBundle;
  let v2Bundle: WorkflowBundle;
  const running: { worker: Worker; done: Promise<void> }[] = [];
  const encryption = testPayloadEncryption();
  const dataConverter = createDataConverter(encryption);

  before(
    async () => {
      installQuietRuntime();
      server = await startTemporal(postgresUrl!);
      databases = await provisionDatabases('postgres');
      await Promise.all(
        (['orders', 'inventory', 'payments', 'shipping', readModelDatabase] as const).map((database) =>
          applyMigrations(database, databases.urls[database]),
        ),
      );
      db = openServiceDatabases(databases.urls);
      await seedCatalogue(db.inventory);
      gatewayDir = mkdtempSync(path.join(tmpdir(), 'order-saga-gateway-'));
      gateway = await launchGateway({ port: await freePort(), databaseUrl: `file:${path.join(gatewayDir, 'gw.db')}` });
      carrier = await launchCarrier({ port: await freePort() });
      nativeConnection = await NativeConnection.connect({ address: server.address });
      connection = await Connection.connect({ address: server.address });
      client = new Client({ connection, namespace: server.namespace, dataConverter });
      [v1Bundle, v2Bundle] = await Promise.all([
        bundleOrderWorkflow(quietLogger),
        bundleWorkflowCode({
          workflowsPath: v2WorkflowsPath,
          workflowInterceptorModules: [...orderWorkflowInterceptorModules],
          logger: quietLogger,
        }),
      ]);
      // The services' own workers are unversioned (src/workers/service-worker.ts says why): one of each serves both
      // builds' runs across the deploy.
      for (const service of ['inventory', 'payments', 'shipping'] as const) await startWorker(service);
      const app = createApp({
        client,
        logger: testLogger('api', 'silent'),
        approval: { thresholdCents: approvalThresholdCents, timeout: '24h' },
        readinessChecks: [],
      });
      api = await new Promise((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      baseUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await new Promise((resolve) => api?.close(resolve));
    for (const { worker } of running) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(running.map(({ done }) => done));
    await nativeConnection?.close();
    await connection?.close();
    await server?.stop();
    if (db) await closeServiceDatabases(db);
    await databases?.drop();
    await gateway?.stop();
    await carrier?.stop();
    if (gatewayDir) rmSync(gatewayDir, { recursive: true, force: true });
  });

  /** Starts a service's worker as the worker processes run it; the orders worker as the given build. */
  async function startWorker(
    service: ServiceName,
    build?: { version: WorkerDeploymentVersion; bundle: WorkflowBundle },
  ): Promise<Worker> {
    const worker = await createServiceWorker(
      service,
      serviceActivities(service, db[service] as never, {
        gateway: createGatewayClient({ ...defaultGatewayClientOptions, baseUrl: gateway.url }),
        carrier: createCarrierClient({ ...defaultCarrierClientOptions, baseUrl: carrier.url }),
      }),
      {
        connection: nativeConnection,
        namespace: server.namespace,
        dataConverter,
        activitySlots: defaultActivitySlots[service],
        ...(build && { workflowBundle: build.bundle, deploymentVersion: build.version }),
      },
    );
    running.push({ worker, done: worker.run() });
    return worker;
  }

  /** `npm run deploy:version -- <args>` against this test's server and deployment. */
  function deployVersion(...args: string[]) {
    return runScript('scripts/deploy-version.ts', args, {
      // Describing a version asks the server's system workflow for it, which a busy 2-core machine was seen to take
      // over 30 s to answer.
      timeoutMs: 120_000,
      env: {
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: server.namespace,
        TEMPORAL_WORKER_DEPLOYMENT_NAME: deploymentName,
      },
    });
  }

  async function describeVersion(version: WorkerDeploymentVersion) {
    const { workerDeploymentVersionInfo } = await connection.workflowService.describeWorkerDeploymentVersion({
      namespace: server.namespace,
      deploymentVersion: version,
    });
    assert.ok(workerDeploymentVersionInfo, `Temporal describes ${version.buildId}`);
    return workerDeploymentVersionInfo;
  }

  async function post(pathname: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${baseUrl}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { orderId: string; state: OrderSagaState } };
  }

  /** Places an order that needs approval; it is accepted (stock reserved) and waits, open. */
  async function placeWaitingOrder(): Promise<WorkflowHandle<typeof orderSaga>> {
    const placed = await post('/orders', orderNeedingApproval, { 'idempotency-key': randomUUID() });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const handle = client.workflow.getHandle<typeof orderSaga>(orderWorkflowId(placed.body.orderId));
    const deadline = Date.now() + 15_000;
    while ((await handle.query(getOrderState)).status !== 'awaiting-approval') {
      if (Date.now() > deadline) assert.fail(`order ${placed.body.orderId} never awaited approval`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return handle;
  }

  async function approve(handle: WorkflowHandle<typeof orderSaga>): Promise<OrderSagaState> {
    const orderId = handle.workflowId.replace(/^order-/, '');
    const decided = await post(`/orders/${orderId}/approve`, { decidedBy: 'ops@example.com' });
    assert.equal(decided.status, 202, JSON.stringify(decided.body));
    return handle.result();
  }

  /** The builds that completed the run's workflow tasks, in order, and the behaviour each reported. */
  async function buildsThatRan(handle: WorkflowHandle<typeof orderSaga>) {
    const history = await handle.fetchHistory();
    return (history.events ?? [])
      .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
      .map(({ workflowTaskCompletedEventAttributes: completed }) => ({
        buildId: completed?.deploymentVersion?.buildId,
        pinned: completed?.versioningBehavior === VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
      }));
  }

  async function pinnedVersionOf(handle: WorkflowHandle<typeof orderSaga>) {
    const { raw } = await handle.describe();
    const versioning = raw.workflowExecutionInfo?.versioningInfo;
    return {
      behavior:
        versioning?.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_PINNED ? 'PINNED' : versioning?.behavior,
      buildId: versioning?.deploymentVersion?.buildId,
    };
  }

  async function memoOf(handle: WorkflowHandle<typeof orderSaga>) {
    return (await handle.describe()).memo ?? {};
  }

  async function orderRow(handle: WorkflowHandle<typeof orderSaga>) {
    return db.orders.order.findUnique({ where: { workflowId: handle.workflowId } });
  }

  test('runs started on v1 finish on v1, new orders start and finish on v2, then v1 drains and is retired', async (t) => {
    const beforeWorkers = await deployVersion('set-current', 'v1');
    assert.equal(beforeWorkers.code, 1, beforeWorkers.stdout);
    assert.match(beforeWorkers.stderr, /start the build's orders workers first \(TEMPORAL_WORKER_BUILD_ID=v1\)/);

    const v1Worker = await startWorker('orders', { version: v1, bundle: v1Bundle });
    const setV1 = await deployVersion('set-current', 'v1', '--wait', '30s');
    assert.equal(setV1.code, 0, setV1.stderr);
    assert.match(setV1.stdout, /v1 is current/);

    const onV1 = [await placeWaitingOrder(), await placeWaitingOrder()];

    await startWorker('orders', { version: v2, bundle: v2Bundle });
    const setV2 = await deployVersion('set-current', 'v2', '--wait', '30s');
    assert.equal(setV2.code, 0, setV2.stderr);
    assert.match(setV2.stdout, /v2 is current/);
    const v1Info = await describeVersion(v1);
    assert.equal(v1Info.status, WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING);

    const retireCurrent = await deployVersion('retire', 'v2');
    assert.equal(retireCurrent.code, 1);
    assert.match(retireCurrent.stderr, /v2 cannot be retired: it is current/);
    const badRamp = await deployVersion('ramp', 'v2', '150');
    assert.equal(badRamp.code, 2, 'a usage error');
    assert.match(badRamp.stderr, /a percentage from 0 to 100/);

    // Orders pinned to v1 are open: the script refuses to retire it, and says why.
    const early = await deployVersion('retire', 'v1');
    assert.equal(early.code, 1, early.stdout);
    assert.match(early.stderr, /v1 cannot be retired yet: open orders are still pinned to it/);

    const onV2 = await placeWaitingOrder();
    assert.equal((await memoOf(onV2))[startedByBuildMemo], startedByBuild, 'v2 code started it');

    const v1States = await Promise.all(onV1.map(approve));
    const lastV1RunClosed = Date.now();
    const v2State = await approve(onV2);

    for (const [index, handle] of onV1.entries()) {
      assert.equal(v1States[index]?.status, 'confirmed');
      assert.equal((await orderRow(handle))?.status, 'CONFIRMED');
      assert.deepEqual(await pinnedVersionOf(handle), { behavior: 'PINNED', buildId: 'v1' });
      const builds = await buildsThatRan(handle);
      assert.ok(builds.length > 2, 'several workflow tasks: before and after the approval');
      assert.deepEqual(new Set(builds.map(({ buildId }) => buildId)), new Set(['v1']), 'every task ran on v1');
      assert.ok(builds.every(({ pinned }) => pinned));
      assert.equal((await memoOf(handle))[startedByBuildMemo], undefined, 'v2 code never ran it');
    }
    assert.equal(v2State.status, 'confirmed');
    assert.equal((await orderRow(onV2))?.status, 'CONFIRMED');
    assert.deepEqual(await pinnedVersionOf(onV2), { behavior: 'PINNED', buildId: 'v2' });
    assert.deepEqual(new Set((await buildsThatRan(onV2)).map(({ buildId }) => buildId)), new Set(['v2']));

    // What pinning spared the v1 runs: v2's code cannot replay them.
    const v1History = await onV1[0]!.fetchHistory();
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: v2Bundle, dataConverter }, v1History, onV1[0]!.workflowId),
      DeterminismViolationError,
    );

    const drainedBy = lastV1RunClosed + 60_000;
    while ((await describeVersion(v1)).drainageInfo?.status !== VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED) {
      if (Date.now() > drainedBy) assert.fail('v1 never reported DRAINED');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    t.diagnostic(`v1 reported DRAINED ${Date.now() - lastV1RunClosed} ms after its last run closed`);

    // A query on a closed run goes to the build it was pinned to: the script says how long such runs are kept.
    const drained = await deployVersion('status');
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /v1: DRAINED, drainage DRAINED/);
    assert.match(drained.stdout, /2 closed order\(s\) pinned to it are kept until .*GET \/orders\/\{id\} does not/);
    v1Worker.shutdown();
    await running.find(({ worker }) => worker === v1Worker)?.done;
    await assert.rejects(onV1[0]!.query(getOrderState), (error: Error) =>
      // Temporal words it one way or the other, depending on whether matching still remembers v1's pollers.
      /FAILED_PRECONDITION: .*(closed Workflow that is PINNED to Worker Deployment Version v1|no poller seen)/.test(
        String((error.cause as Error | undefined)?.message),
      ),
    );
    // The API does not ask: a closed order's state is its run's result, in the history, with no worker involved.
    const afterV1 = await fetch(`${baseUrl}/orders/${orderIdOfWorkflow(onV1[0]!.workflowId)}`);
    assert.equal(afterV1.status, 200);
    assert.equal(((await afterV1.json()) as OrderSagaState).status, 'confirmed');
    const retireStarted = Date.now();
    const retired = await deployVersion('retire', 'v1', '--wait', '60s');
    t.diagnostic(`retire v1 --wait 60s took ${Date.now() - retireStarted} ms (workers stopped)`);
    assert.equal(retired.code, 0, retired.stderr);
    assert.match(retired.stdout, /v1 retired/);
    await assert.rejects(
      describeVersion(v1),
      (error: unknown) => isGrpcServiceError(error) && /not found/i.test(error.details),
    );

    const status = await deployVersion('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /current: v2/);
    assert.doesNotMatch(status.stdout, /^\s+v1:/m);
  });
});
