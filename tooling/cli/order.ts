/**
 * The terminal client: places an order (a failure-trigger scenario or one of
 * your own) and follows its saga live, step by step and compensation by
 * compensation, then prints where it ended and its run in the Web UI.
 * `npx order --help` (or `npm run order -- --help`) says how.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { orderWorkflowId } from '../../src/temporal/names';
import { finalStatuses, type OrderStatus, type OrderStep } from '../../src/workflows/definitions';
import { ApiProblem, ApiUnreachable, createApiClient, type ApiClient, type OrderState } from './api-client';
import { exitCodes, helpText, parseCommandLine, scenarioList, UsageError, type CliOptions } from './options';
import { describeEvent, describeOutcome, elapsed, humanWaitHint, labelColumn, painter, type Paint } from './render';
import { sagaEvents, type SagaEvent } from './saga-events';
import { orderRequestOf } from './scenarios';

/**
 * Often enough to catch most steps starting (a step takes a few hundred
 * milliseconds); 240 requests a minute stay within the API's default rate
 * limit of 600.
 */
const pollIntervalMs = 250;

/** How long a step may run before the client says it is still at it. */
const slowStepMs = 2_000;

/** Statuses where the saga waits for a person: the client stops there unless --wait. */
const humanWaits: readonly OrderStatus[] = ['awaiting-approval', 'needs-attention'];

type FollowOutcome = { kind: 'final' | 'waiting' | 'timeout'; state: OrderState | undefined };

interface Output {
  /** A line of the live log, after the elapsed time since the order was placed. */
  event(event: SagaEvent | { type: 'placed' | 'notice' | 'step-slow'; [field: string]: unknown }, text: string): void;
  /** Lines without a time: headers, the outcome, hints. In JSON mode they are one object. */
  block(record: Record<string, unknown>, lines: string[]): void;
}

function createOutput(options: CliOptions, startedAt: number, paint: Paint): Output {
  const write = (line: string) => process.stdout.write(`${line}\n`);
  return {
    event(event, text) {
      const ms = performance.now() - startedAt;
      if (options.json) write(JSON.stringify({ elapsedMs: Math.round(ms), ...event }));
      else write(`${paint('dim', elapsed(ms))}  ${text}`);
    },
    block(record, lines) {
      if (options.json) write(JSON.stringify(record));
      else for (const line of lines) write(line);
    },
  };
}

async function follow(
  api: ApiClient,
  orderId: string,
  options: CliOptions,
  output: Output,
  paint: Paint,
): Promise<FollowOutcome> {
  const deadline = performance.now() + options.timeoutMs;
  let state: OrderState | undefined;
  let lastNotice: string | undefined;
  let hinted = false;
  // A step that takes long is usually retrying; the state does not count attempts, the run's history does.
  let current: { step: OrderStep; since: number; noted: boolean } | undefined;
  const noteSlowStep = ({ currentStep, status }: OrderState) => {
    if (currentStep === null || status !== 'running') return void (current = undefined);
    if (current?.step !== currentStep) current = { step: currentStep, since: performance.now(), noted: false };
    const seconds = (performance.now() - current.since) / 1000;
    if (current.noted || seconds * 1000 < slowStepMs) return;
    current.noted = true;
    output.event(
      { type: 'step-slow', step: currentStep, seconds },
      `${labelColumn(paint, 'step')}${currentStep} still running after ${seconds.toFixed(1)} s (retrying? each attempt is in the run's history in the Web UI)`,
    );
  };
  while (performance.now() < deadline) {
    let next: OrderState;
    try {
      next = await api.orderState(orderId);
      lastNotice = undefined;
    } catch (error) {
      // Once the order was seen, a restarting API or a Temporal hiccup is waited out (within --timeout).
      const transient = error instanceof ApiUnreachable || (error instanceof ApiProblem && error.status >= 500);
      if (!state || !transient) throw error;
      if (error.message !== lastNotice) {
        lastNotice = error.message;
        output.event(
          { type: 'notice', message: error.message },
          `${labelColumn(paint, 'api', 'yellow')}${error.message}; retrying`,
        );
      }
      await sleep(Math.min(pollIntervalMs * 4, Math.max(0, deadline - performance.now())));
      continue;
    }
    for (const event of sagaEvents(state, next)) output.event(event, describeEvent(event, paint));
    state = next;
    noteSlowStep(state);
    if (finalStatuses.includes(state.status)) return { kind: 'final', state };
    if (humanWaits.includes(state.status)) {
      if (!options.waitForHuman) return { kind: 'waiting', state };
      if (!hinted)
        output.block(
          { type: 'hint', lines: humanWaitHint(state, options.apiUrl) },
          humanWaitHint(state, options.apiUrl),
        );
      hinted = true;
    } else {
      hinted = false;
    }
    await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - performance.now())));
  }
  return { kind: 'timeout', state };
}

async function run(argv: readonly string[]): Promise<number> {
  const options = parseCommandLine(argv, process.env);
  const { command } = options;
  if (command.kind === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return exitCodes.done;
  }
  if (command.kind === 'list') {
    process.stdout.write(`${scenarioList()}\n`);
    return exitCodes.done;
  }

  const paint = painter(process.stdout.isTTY === true && !process.env.NO_COLOR && !options.json);
  const api = createApiClient(options.apiUrl, options.apiKey);
  const startedAt = performance.now();
  const output = createOutput(options, startedAt, paint);

  let orderId: string;
  let workflowId: string;
  if (command.kind === 'place') {
    const { scenario, draft, idempotencyKey } = command;
    const order = orderRequestOf(draft);
    output.block({ type: 'placing', scenario: scenario?.name ?? null, order, idempotencyKey, api: options.apiUrl }, [
      paint('bold', `Placing an order${scenario ? ` (scenario ${scenario.name}: ${scenario.summary})` : ''}`),
      `  ${draft.quantity} × ${draft.sku}, token ${draft.token}, postal code ${draft.postalCode}, customer ${draft.customerId}`,
      `  API ${options.apiUrl}, Idempotency-Key ${idempotencyKey}`,
      ...(scenario?.waitsFor && !options.waitForHuman
        ? [
            `  This order stops for ${scenario.waitsFor === 'approval' ? 'an approval' : 'an operator'}: the client stops following there and says how to go on (or pass --wait).`,
          ]
        : []),
    ]);
    const placed = await api.placeOrder(order, idempotencyKey);
    ({ orderId, workflowId } = placed);
    output.event(
      { type: 'placed', orderId, workflowId, replayed: placed.replayed },
      `${labelColumn(paint, 'placed')}order ${orderId}, workflow ${workflowId}${placed.replayed ? ' (this key was used before: following that order)' : ''}`,
    );
  } else {
    orderId = command.orderId;
    workflowId = orderWorkflowId(orderId);
  }

  const runUrl = `${options.uiUrl}/namespaces/${encodeURIComponent(options.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  process.once('SIGINT', () => {
    process.stderr.write(`\nStopped following; order ${orderId} goes on in Temporal: ${runUrl}\n`);
    process.exit(exitCodes.interrupted);
  });

  const outcome = await follow(api, orderId, options, output, paint);
  const { state } = outcome;
  if (outcome.kind === 'timeout' || !state) {
    process.stderr.write(
      `Gave up following after ${options.timeoutMs / 1000} s: order ${orderId} is ${state?.status ?? 'not readable yet'}; it goes on in Temporal: ${runUrl}\n`,
    );
    return exitCodes.failure;
  }
  if (outcome.kind === 'waiting') {
    const hint = humanWaitHint(state, options.apiUrl);
    output.block({ type: 'outcome', outcome: 'waiting', state, webUi: runUrl, hint }, [
      '',
      `Stopped following: the order is ${paint('bold', state.status)}, waiting for a person.`,
      ...hint,
      `Then follow it again: npx order --follow ${orderId} --api ${options.apiUrl}`,
      `Web UI: ${runUrl}`,
    ]);
    return exitCodes.done;
  }
  output.block({ type: 'outcome', outcome: 'final', state, webUi: runUrl }, [
    '',
    ...describeOutcome(state, runUrl, paint),
  ]);
  return exitCodes.done;
}

function failureExitCode(error: unknown): { code: number; message: string } {
  if (error instanceof UsageError) return { code: exitCodes.usage, message: `${error.message} (see --help)` };
  if (error instanceof ApiUnreachable) {
    return {
      code: exitCodes.failure,
      message: `${error.message}; is it running (npm start)? Point --api or ORDER_API_URL at it`,
    };
  }
  if (error instanceof ApiProblem) return { code: exitCodes.failure, message: error.message };
  return { code: exitCodes.failure, message: error instanceof Error ? error.message : String(error) };
}

/** Exits once the output is written, rather than waiting for fetch's idle keep-alive connections to time out. */
function exitWith(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

run(process.argv.slice(2)).then(exitWith, (error: unknown) => {
  const { code, message } = failureExitCode(error);
  process.stderr.write(`order: ${message.replace(/\s*\n\s*/g, ' ')}\n`, () => exitWith(code));
});
