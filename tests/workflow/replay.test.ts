import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  Worker,
  type WorkflowBundle,
} from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { projectRoot } from '../../src/project-root';
import { orderWorkflowId } from '../../src/temporal/names';
import { orderWorkflowInterceptorModules } from '../../src/interceptors/workflow-modules';
import { bundleOrderWorkflow, workflowsPath } from '../../src/workers/service-worker';
import type { OrderSagaInput } from '../../src/workflows/definitions';
import { quietLogger } from '../support/quiet-logger';

/**
 * Every recorded order history (tests/histories/<version>/, written by
 * scripts/record-histories.ts) replays against the current workflow code.
 * A change to the workflow that would break runs started before it (open
 * ones, and closed ones, which every query replays) fails here; see
 * docs/VERSIONING.md.
 */

const historiesDir = path.join(projectRoot, 'tests', 'histories');

// The determinism violations provoked below are expected: keep the replay workers' logs to errors.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), console: {} } },
});

interface RecordedHistory extends HistoryAndWorkflowId {
  /** `<version>/<scenario>`, e.g. v1/happy-path. */
  name: string;
}

function readHistory(version: string, file: string): RecordedHistory {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(historiesDir, version, file), 'utf8')));
  // A history does not name its workflow; the order saga's id derives from its input.
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const input = defaultPayloadConverter.fromPayload<OrderSagaInput>(started!.input!.payloads![0]!);
  return { name: `${version}/${path.basename(file, '.json')}`, workflowId: orderWorkflowId(input.orderId), history };
}

/** v1, v2, …: each recorded by scripts/record-histories.ts with the workflow code of its time. */
const versions = readdirSync(historiesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && /^v\d+$/.test(entry.name))
  .map((entry) => entry.name)
  .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
const recorded = versions.flatMap((version) =>
  readdirSync(path.join(historiesDir, version))
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => readHistory(version, file)),
);

/** Replays the histories one after the other, each to its own verdict: undefined when it replayed. */
async function replay(workflowBundle: WorkflowBundle, histories: RecordedHistory[]): Promise<Map<string, unknown>> {
  const verdicts = new Map<string, unknown>();
  let index = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
    const history = histories[index++]!;
    assert.equal(result.workflowId, history.workflowId, 'results come in the order of the histories');
    verdicts.set(history.name, result.error);
  }
  assert.equal(verdicts.size, histories.length, 'every history was replayed');
  return verdicts;
}

describe('recorded order histories replay against the current workflow code', () => {
  let current: WorkflowBundle;

  before(async () => {
    // As the orders worker bundles it, interceptor modules included: those are workflow code too.
    current = await bundleOrderWorkflow(quietLogger);
  });

  test('each version was recorded for at least the paths of the one before', () => {
    assert.ok(versions.length > 0, 'tests/histories holds at least one version');
    const scenariosOf = (version: string) =>
      recorded
        .filter((history) => history.name.startsWith(`${version}/`))
        .map((history) => history.name.slice(version.length + 1));
    for (const [index, version] of versions.entries()) {
      const previous = index > 0 ? scenariosOf(versions[index - 1]!) : ['happy-path'];
      const missing = previous.filter((scenario) => !scenariosOf(version).includes(scenario));
      assert.deepEqual(missing, [], `${version} lacks paths recorded before it`);
    }
  });

  test('every history replays without a determinism error', async () => {
    const failures = [...(await replay(current, recorded))]
      .filter(([, error]) => error !== undefined)
      .map(([name, error]) => `${name}: ${String(error)}`);
    assert.deepEqual(failures, []);
  });

  test('a workflow that swaps two activities fails to replay them', async () => {
    const reordered = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../support/reordered-order-saga.ts', import.meta.url)),
      logger: quietLogger,
    });
    const happyPath = recorded.filter((history) => history.name.endsWith('/happy-path'));
    assert.ok(happyPath.length > 0);
    for (const [name, error] of await replay(reordered, happyPath)) {
      assert.ok(
        error instanceof DeterminismViolationError,
        `${name}: expected a determinism violation, got ${String(error)}`,
      );
      // Since v6 create-order is a local activity: reserveStock comes where the history has its patch marker.
      assert.match(
        error.message,
        /scheduled event 'createOrder' does not match .* 'reserveStock'|patch marker encountered for change orders-steps-in-workflow-worker, but there is no corresponding change command/,
        name,
      );
    }
  });

  /**
   * The workflow's patches: the version whose histories were the first recorded
   * with each, the scenarios that reach it, and what replaying an earlier
   * history fails with when the change is made without patched().
   */
  const patches = [
    {
      id: 'orders-steps-in-workflow-worker',
      since: 6,
      // Every path: each starts with create-order.
      scenarios: [...new Set(recorded.map(({ name }) => name.slice(name.indexOf('/') + 1)))],
      // Before it, create-order was an activity task; unguarded, it is a local activity (a marker, no command).
      unguardedOnOlder: /No command scheduled for event HistoryEvent\(id: \d+, ActivityTaskScheduled\)/,
    },
    {
      id: 'steps-wait-out-transient-failures',
      since: 5,
      // Every path where a step's round of retries ran out.
      scenarios: ['confirm-out-of-retries', 'payment-waits-out-outage', 'shipment-past-deadline'],
      // Before it, a confirmation out of retries was unwound; unguarded, the saga schedules another round instead.
      unguardedOnOlder: /scheduled event 'cancelShipment' does not match .* 'confirmOrder'|Activity.*confirmOrder/,
    },
    {
      id: 'order-total-search-attribute',
      since: 4,
      // Every path that gets past the stock reservation.
      scenarios: [
        'approval-then-confirmed',
        'approval-timed-out',
        'cancelled-awaiting-approval',
        'confirm-out-of-retries',
        'happy-path',
        'payment-declined',
        'payment-waits-out-outage',
        'refund-stuck-then-resolved',
        'refund-stuck-then-retried',
        'shipment-past-deadline',
        'shipment-undeliverable-refunded',
      ],
      unguardedOnOlder: /UpsertWorkflowSearchAttributes/,
    },
    {
      id: 'commit-reservation-on-confirm',
      since: 2,
      scenarios: ['approval-then-confirmed', 'confirm-out-of-retries', 'happy-path', 'payment-waits-out-outage'],
      unguardedOnOlder: /scheduled event 'confirmOrder' does not match .* 'commitReservation'/,
    },
    {
      id: 'cancel-answers-when-settled',
      since: 3,
      scenarios: ['cancelled-awaiting-approval'],
      // The old update completed at once; unguarded, it completes only after the unwinding.
      unguardedOnOlder: /does not handle this event: .*WorkflowExecutionUpdateCompleted/,
    },
  ];

  for (const patch of patches) {
    test(`${patch.id}: made without patched(), it breaks the runs recorded before it; dropping patched() breaks the later ones`, async () => {
      const unguardedPatches = fileURLToPath(new URL('../support/unguarded-patches.ts', import.meta.url));
      const unguarded = await bundleWorkflowCode({
        workflowsPath,
        workflowInterceptorModules: [...orderWorkflowInterceptorModules],
        logger: quietLogger,
        webpackConfigHook: (config) => {
          const alias = config.resolve?.alias;
          assert.ok(alias && !Array.isArray(alias), 'the SDK bundler configures aliases as an object');
          const workflowApi = `${unguardedPatches}?patch=${encodeURIComponent(patch.id)}`;
          return {
            ...config,
            resolve: { ...config.resolve, alias: { ...alias, '@temporalio/workflow$': workflowApi } },
          };
        },
      });
      const failed = [...(await replay(unguarded, recorded))].filter(([, error]) => error !== undefined);
      // Only runs that reached the patched point are affected, in either direction: those recorded before the
      // patch lack its new commands, the later ones carry its marker.
      const reaches = (name: string) => patch.scenarios.some((scenario) => name.endsWith(`/${scenario}`));
      assert.deepEqual(
        failed.map(([name]) => name).sort(),
        recorded
          .map(({ name }) => name)
          .filter(reaches)
          .sort(),
      );
      for (const [name, error] of failed) {
        const version = Number(name.slice(1, name.indexOf('/')));
        assert.ok(error instanceof DeterminismViolationError, name);
        assert.match(
          error.message,
          version < patch.since
            ? patch.unguardedOnOlder
            : new RegExp(`Non-deprecated patch marker encountered for change ${patch.id}`),
          name,
        );
      }
    });
  }
});
