/**
 * Benchmark item 6, time skipping: the workflow test suite's longest timer is
 * the approval's 24 hours (tests/workflow/order-saga.workflow.test.ts, "no decision
 * within 24 hours rejects the order"; the compensation retry budget the other
 * tests skip is about ten minutes). This runs that same scenario, the real
 * workflow with the suite's scripted services on the time-skipping test
 * server, and reports the run's own clock (close time minus start time, as
 * the server records them) against the wall clock.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { orderWorkflowId, orderWorkflowTaskQueue } from '../src/temporal/names';
import {
  getOrderState,
  orderFailureTypes,
  type OrderSagaInput,
  type OrderSagaState,
} from '../src/workflows/definitions';
import type { orderSaga } from '../src/workflows/order-saga';
import { startScriptedSaga } from '../tests/support/scripted-saga';
import { ScriptedServices } from '../tests/support/scripted-services';
import type { Distribution } from './results';
import { distribution } from './stats';

export interface TimeSkippingRun {
  /** The run's own duration: its close time minus its start time, on the server's (skipped) clock. */
  simulatedMs: number;
  /** start() called to result() settled, on this process's clock. */
  wallMs: number;
  /** simulatedMs / wallMs. */
  speedup: number;
}

export interface TimeSkippingResult {
  /** Where the scenario comes from. */
  test: string;
  scenario: string;
  /** The timer it waits on, as the workflow is given it. */
  timer: string;
  /** The first run on fresh workers (the workflow bundle loading, first polls): reported, left out of the figures. */
  coldRun: TimeSkippingRun;
  /** The runs after it, which the figures summarize. */
  runs: TimeSkippingRun[];
  simulatedMs: Distribution;
  wallMs: Distribution;
  /** Median simulated duration over median wall time. */
  speedup: number;
  /** Starting the test server (a JVM here, or the SDK's native one), bundling the workflow and the workers: once. */
  setupMs: number;
}

export interface TimeSkippingOptions {
  /** How many times to run the scenario on the one server after the cold run. Default 3. */
  runs?: number;
  /** Bound on each run's wall time. Default 60 s. */
  runTimeoutMs?: number;
  log?: (line: string) => void;
}

const approvalTimeout = '24h';
const testName =
  'tests/workflow/order-saga.workflow.test.ts: "no decision within 24 hours rejects the order: a day passes in seconds"';

async function untilAwaitingApproval(
  handle: { query: (q: typeof getOrderState) => Promise<OrderSagaState> },
  ms: number,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    // Queries do not skip time: the run reaches its timer on real time, as in the test.
    const state = await handle.query(getOrderState);
    if (state.status === 'awaiting-approval') return;
    if (Date.now() > deadline) throw new Error(`The order stayed ${state.status}, expected awaiting-approval`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function measureTimeSkipping(options: TimeSkippingOptions = {}): Promise<TimeSkippingResult> {
  const runsWanted = Math.max(1, options.runs ?? 3);
  const runTimeoutMs = options.runTimeoutMs ?? 60_000;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));

  const setupStarted = performance.now();
  const services = new ScriptedServices();
  const saga = await startScriptedSaga(services);
  const setupMs = performance.now() - setupStarted;
  const runs: TimeSkippingRun[] = [];
  try {
    for (let run = 0; run <= runsWanted; run += 1) {
      const input: OrderSagaInput = {
        orderId: `ord_${(0xb5000 + run).toString(16).padStart(24, '0')}`,
        customerId: 'cus_42',
        // One laptop: over the threshold, so the saga waits for a decision that never comes.
        items: [{ sku: 'SKU-LAPTOP', quantity: 1 }],
        paymentToken: 'tok_visa',
        shippingAddress: {
          recipient: 'Ada',
          line1: '1 Loop St',
          city: 'Springfield',
          postalCode: '12345',
          country: 'US',
        },
        approvalThresholdCents: 100_000,
        approvalTimeout,
      };
      const started = performance.now();
      const handle = await saga.env.client.workflow.start<typeof orderSaga>('orderSaga', {
        workflowId: orderWorkflowId(input.orderId),
        taskQueue: orderWorkflowTaskQueue,
        args: [input],
      });
      await untilAwaitingApproval(handle, runTimeoutMs);
      let failureType: string | undefined;
      const deadline = new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`The run took longer than ${runTimeoutMs} ms of wall time`)),
          runTimeoutMs,
        ).unref(),
      );
      try {
        await Promise.race([handle.result(), deadline]);
      } catch (error) {
        if (!(error instanceof WorkflowFailedError) || !(error.cause instanceof ApplicationFailure)) throw error;
        failureType = (error.cause.details?.[0] as OrderSagaState | undefined)?.failure?.type;
      }
      const wallMs = performance.now() - started;
      if (failureType !== orderFailureTypes.approvalTimedOut) {
        throw new Error(`Expected the order to fail with ${orderFailureTypes.approvalTimedOut}, got ${failureType}`);
      }
      const description = await handle.describe();
      const simulatedMs = (description.closeTime?.getTime() ?? Number.NaN) - description.startTime.getTime();
      runs.push({ simulatedMs, wallMs: Math.round(wallMs), speedup: Math.round(simulatedMs / wallMs) });
      log(
        `  time skipping: ${run === 0 ? 'cold run' : `run ${run}`}: ${(simulatedMs / 3_600_000).toFixed(2)} h simulated in ${Math.round(wallMs)} ms`,
      );
    }
  } finally {
    await saga.stop();
  }
  const [coldRun, ...warm] = runs;
  if (!coldRun || warm.length === 0) throw new Error('Time skipping needs at least one run after the cold one');
  const simulated = distribution(warm.map((run) => run.simulatedMs));
  const wall = distribution(warm.map((run) => run.wallMs));
  return {
    test: testName,
    scenario: 'An order over the approval threshold gets no decision: the approval times out and the saga compensates',
    timer: `approval timeout ${approvalTimeout}`,
    coldRun,
    runs: warm,
    simulatedMs: simulated,
    wallMs: wall,
    speedup: simulated.p50 !== null && wall.p50 ? Math.round(simulated.p50 / wall.p50) : 0,
    setupMs: Math.round(setupMs),
  };
}

// Standalone: npx tsx bench/time-skipping.ts [--runs 3]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
  const result = await measureTimeSkipping({ runs: Number(values.runs) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
