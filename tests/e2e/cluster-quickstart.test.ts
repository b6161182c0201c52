import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { orderWorkflowId } from '../../src/temporal/names';
import { freePort, isExecutableFile, temporalLayout } from '../../tooling/temporal/servers';
import type { OrderSagaState } from '../../src/workflows/definitions';
import { freeLowPort } from '../../tooling/cluster/cluster';
import { launchUntilReady } from '../support/launch-until-ready';
import { withTimeout } from '../support/timeout';
import { orderRequest, springfieldAddress } from '../support/sample-orders';

/**
 * `npm run cluster` as a user runs it: the system on the real Temporal cluster with its embedded PostgreSQL. An
 * order is confirmed and shows in the cluster's Web UI; Ctrl-C stops everything; a second run reuses the databases
 * and the namespace, and the first run's order is still there.
 */
const built = [temporalLayout.server, temporalLayout.sqlTool, temporalLayout.uiServer].every(isExecutableFile);

test(
  'npm run cluster: an order is confirmed on the real cluster, Ctrl-C stops it all, a second run keeps the data',
  { skip: !built && 'the cluster is not built: npm run setup:temporal' },
  async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'order-saga-cluster-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CLUSTER_POSTGRES_PORT: String(await freeLowPort()),
      TEMPORAL_ADDRESS: `127.0.0.1:${await freeLowPort()}`,
      TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_DB_FILE: path.join(dataDir, 'temporal.db'),
      API_PORT: String(await freePort()),
      CODEC_SERVER_PORT: String(await freePort()),
    };
    delete env.CLUSTER_POSTGRES_URL;
    delete env.TEMPORAL_WORKER_BUILD_ID;
    const apiUrl = `http://127.0.0.1:${env.API_PORT}`;
    try {
      const first = await runCluster(env, async () => {
        const orderId = await placeOrder(apiUrl);
        assert.equal((await waitForStatus(apiUrl, orderId, 'confirmed')).status, 'confirmed');
        // The cluster's own Web UI (ui-server) shows the run, read through the frontend.
        const uiRun = await fetch(
          `http://127.0.0.1:${env.TEMPORAL_UI_PORT}/api/v1/namespaces/default/workflows/${orderWorkflowId(orderId)}`,
        );
        assert.equal(uiRun.status, 200);
        const run = (await uiRun.json()) as {
          workflowExecutionInfo?: {
            status?: string;
            versioningInfo?: { behavior?: string; deploymentVersion?: { deploymentName?: string; buildId?: string } };
          };
        };
        assert.equal(run.workflowExecutionInfo?.status, 'WORKFLOW_EXECUTION_STATUS_COMPLETED');
        // The orders worker runs versioned, as on a production cluster: the run was pinned to the build `local`.
        assert.deepEqual(run.workflowExecutionInfo?.versioningInfo?.deploymentVersion, {
          deploymentName: 'order-saga',
          buildId: 'local',
        });
        assert.equal(run.workflowExecutionInfo?.versioningInfo?.behavior, 'VERSIONING_BEHAVIOR_PINNED');
        return orderId;
      });
      assert.match(first.output, /\[cluster\] stopping the Temporal services/);
      assert.match(first.output, /\[cluster\] stopping PostgreSQL/);

      const second = await runCluster(env, async () => {
        // The order of the first run: its history (Temporal's PostgreSQL) and its rows (the services') were kept.
        const state = (await (await fetch(`${apiUrl}/orders/${first.result}`)).json()) as OrderSagaState;
        assert.equal(state.status, 'confirmed');
      });
      assert.doesNotMatch(second.output, /creating database|initialising an embedded PostgreSQL/);
      assert.doesNotMatch(second.output, /namespace default registered|search attributes registered/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

/** Runs `npm run cluster` until ready, then `whileUp`, then Ctrl-C; fails unless everything stopped with code 0. */
async function runCluster<T>(
  env: NodeJS.ProcessEnv,
  whileUp: () => Promise<T>,
): Promise<{ result: T; output: string }> {
  const {
    child: cluster,
    output: lines,
    ready,
    exited,
  } = launchUntilReady('scripts/cluster.ts', env, '[start] ready.');
  let result: T;
  try {
    await withTimeout(ready, 240_000, () => `npm run cluster was not ready in time:\n${lines.join('\n')}`);
    result = await whileUp();
  } finally {
    cluster.kill('SIGINT');
    const code = await withTimeout(exited, 90_000, () => `npm run cluster did not stop:\n${lines.join('\n')}`);
    assert.equal(code, 0, lines.join('\n'));
  }
  return { result, output: lines.join('\n') };
}

async function placeOrder(apiUrl: string): Promise<string> {
  const placed = await fetch(`${apiUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Idempotency-Key': `cluster-quickstart-${Date.now()}` },
    body: JSON.stringify(
      orderRequest({ customerId: 'cus_demo', items: [{ sku: 'SKU-MUG', quantity: 1 }], address: springfieldAddress }),
    ),
  });
  assert.equal(placed.status, 201, await placed.clone().text());
  return ((await placed.json()) as { orderId: string }).orderId;
}

async function waitForStatus(apiUrl: string, orderId: string, status: string): Promise<OrderSagaState> {
  let state: OrderSagaState | undefined;
  for (let tries = 0; tries < 150 && state?.status !== status; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    state = (await (await fetch(`${apiUrl}/orders/${orderId}`)).json()) as OrderSagaState;
  }
  return state!;
}
