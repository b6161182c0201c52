import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { rejectionTypes } from '../../src/domain/rejections';
import { undeliverablePostalCode } from '../../src/domain/failure-triggers';
import {
  checkInvariants,
  orderRowStatuses,
  paymentRowStatuses,
  reservationRowStatuses,
  shipmentRowStatuses,
} from '../../tooling/reliability/invariants';
import { orderWorkflowId, orderWorkflowTaskQueue, serviceNames } from '../../src/temporal/names';
import {
  getOrderState,
  orderFailureTypes,
  resolveCompensation,
  type CompensationName,
  type OrderSagaInput,
  type OrderSagaState,
  type OrderStep,
} from '../../src/workflows/definitions';
import type { orderSaga } from '../../src/workflows/order-saga';
import { FaultInjector, type Fault } from '../support/fault-injection';
import type { Provider } from '../support/stack';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping-stack';
import { outcome } from '../support/saga-run';
import { skipReason } from '../support/service-databases';
import { springfieldAddress } from '../support/sample-orders';

/**
 * The fault matrix: every step and every compensation of the saga, under each fault an activity can meet, on
 * SQLite and PostgreSQL, with the real activities, databases, gateway and carrier on the time-skipping server
 * (so rounds of retries, deadlines and the compensations' ten-minute budget pass in no time). After each case
 * the invariant checker passes and the run's final state agrees with the four databases and the gateway.
 *
 * Faults (tests/support/fault-injection.ts):
 * - fails before commit: the first round of retries (5 attempts) and one more attempt fail before the service
 *   is called; the order waits a round, then goes on. A compensation fails all 14 attempts: the order needs
 *   attention, and an operator's retry finishes it.
 * - commits, answer lost: the same number of attempts commit and then lose their answer; retries must find the
 *   work done and not do it again (the confirmation, the point of no return, must not be unwound).
 * - past its deadline (steps with a business deadline): every attempt fails (before or after committing) until
 *   the deadline, so the step is compensated whether or not it took effect: the compensation undoes what was
 *   committed, or records that there was nothing and fences the step.
 * - runs twice at once: the first attempt calls the service twice concurrently with the same input.
 *
 * MATRIX=full runs every case on both providers (76 cases, about 5 min on 2 cores). The default, CI's short form
 * (62 cases, about 1.5 min), leaves out the past-deadline cases but two on SQLite (each takes ~15 s: see
 * docs/RELIABILITY.md, rounds of one attempt in a deadline's last seconds). MATRIX_PROVIDERS=sqlite (or postgres)
 * runs one provider.
 */

type FaultLabel =
  | 'fails before commit'
  | 'commits, answer lost'
  | 'fails before commit past deadline'
  | 'commits, answer lost past deadline'
  | 'runs twice at once';

/** Attempts that fail for a step: a whole first round (5) and the first attempt of the next. */
const stepFaultInvocations = 6;
/** Attempts that fail for a compensation: its whole budget (src/workflows/saga-steps.ts compensationOptions). */
const compensationFaultInvocations = 14;
/** A case that takes longer hangs (a step retried forever, say): it fails rather than hold CI. */
const caseTimeoutMs = 90_000;
/**
 * What a step failing until a 2 m deadline should cost: the first round's 5 attempts and a later round's few
 * (15 s, 30 s, 60 s apart), a handful more at most; and the history a dozen events per round.
 */
const maxAttemptsPastShortDeadline = 20;
const maxHistoryPastShortDeadline = 200;
/** Short business deadlines for the cases that run past them. */
const shortDeadlines = { acceptance: '2m', payment: '2m', shipment: '2m' };

interface StepUnderTest {
  activity: string;
  step: OrderStep;
  /** Whether the step has a business deadline (the confirmation has none: it is retried until done). */
  deadline: boolean;
}

const stepsUnderTest: StepUnderTest[] = [
  { activity: 'createOrder', step: 'create-order', deadline: true },
  { activity: 'reserveStock', step: 'reserve-stock', deadline: true },
  { activity: 'chargePayment', step: 'charge-payment', deadline: true },
  { activity: 'createShipment', step: 'create-shipment', deadline: true },
  { activity: 'commitReservation', step: 'confirm-order', deadline: false },
  { activity: 'confirmOrder', step: 'confirm-order', deadline: false },
];

/** The forward steps that have a compensation, in order, with it. */
const compensationOf: [OrderStep, CompensationName, string][] = [
  ['create-order', 'cancel-order', 'cancelOrder'],
  ['reserve-stock', 'release-stock', 'releaseStock'],
  ['charge-payment', 'refund-payment', 'refundPayment'],
  ['create-shipment', 'cancel-shipment', 'cancelShipment'],
];

/** The compensations, in the order they run, of a saga stopped at `step` (the step itself included if compensated). */
function unwindingOf(step: OrderStep, stepCompensated: boolean): CompensationName[] {
  const index = compensationOf.findIndex(([forward]) => forward === step);
  const done = index === -1 ? compensationOf : compensationOf.slice(0, stepCompensated ? index + 1 : index);
  return done.map(([, compensation]) => compensation).reverse();
}

type Expected =
  | { status: 'confirmed' }
  | {
      status: 'failed';
      step: OrderStep;
      type: string;
      compensations: CompensationName[];
      /** The steps whose rows exist (undone): those done before the stop, and the stopped one if it committed. */
      committed: OrderStep[];
    };

interface MatrixCase {
  /** The activity under test, and whether it is a step or a compensation. */
  activity: string;
  role: 'step' | 'compensation';
  fault: FaultLabel;
  /** The order: for a compensation, what stops the saga so that it runs. */
  scenario: string;
  faults: [string, Fault][];
  input: Partial<OrderSagaInput>;
  expected: Expected;
  /** A compensation that runs out of attempts waits for an operator, who retries it. */
  operatorRetries: boolean;
}

const forwardSteps: OrderStep[] = ['create-order', 'reserve-stock', 'charge-payment', 'create-shipment'];
const stepsBefore = (step: OrderStep) => forwardSteps.slice(0, forwardSteps.indexOf(step));

function stepCases(): MatrixCase[] {
  const cases: MatrixCase[] = [];
  for (const { activity, step, deadline } of stepsUnderTest) {
    const base = { activity, role: 'step' as const, scenario: 'a plain order', input: {}, operatorRetries: false };
    const confirmed: Expected = { status: 'confirmed' };
    cases.push(
      {
        ...base,
        fault: 'fails before commit',
        faults: [[activity, { kind: 'fails-before-commit', invocations: stepFaultInvocations }]],
        expected: confirmed,
      },
      {
        ...base,
        fault: 'commits, answer lost',
        faults: [[activity, { kind: 'loses-answer', invocations: stepFaultInvocations }]],
        expected: confirmed,
      },
      { ...base, fault: 'runs twice at once', faults: [[activity, { kind: 'runs-twice' }]], expected: confirmed },
    );
    if (!deadline) continue;
    const pastDeadline = { ...base, scenario: 'short deadlines (2m)', input: { deadlines: shortDeadlines } };
    const stopped = { status: 'failed' as const, step, type: orderFailureTypes.deadlineExceeded };
    cases.push(
      {
        ...pastDeadline,
        fault: 'fails before commit past deadline',
        faults: [[activity, { kind: 'fails-before-commit', invocations: Infinity }]],
        expected: { ...stopped, compensations: unwindingOf(step, true), committed: stepsBefore(step) },
      },
      {
        ...pastDeadline,
        fault: 'commits, answer lost past deadline',
        faults: [[activity, { kind: 'loses-answer', invocations: Infinity }]],
        expected: { ...stopped, compensations: unwindingOf(step, true), committed: [...stepsBefore(step), step] },
      },
    );
  }
  return cases;
}

/**
 * An undeliverable address makes create-shipment refuse after the charge: refund, release and cancel-order run.
 * cancel-shipment runs only when something after create-shipment stops the saga, and the only step there is the
 * confirmation, which stops only on a business answer: commit-reservation refusing (as it does when the stock
 * was already released). Nothing in an order's input makes it refuse, so the injector refuses it.
 */
const undeliverable = {
  scenario: 'undeliverable address: create-shipment refuses',
  input: { shippingAddress: { ...plainAddress(), postalCode: undeliverablePostalCode } },
  stop: { step: 'create-shipment' as const, type: rejectionTypes.addressUndeliverable },
  extraFaults: [] as [string, Fault][],
};
const commitRefused = {
  scenario: 'commit-reservation refuses (injected)',
  input: {},
  stop: { step: 'confirm-order' as const, type: rejectionTypes.stepAlreadyCompensated },
  extraFaults: [
    [
      'commitReservation',
      {
        kind: 'refuses',
        type: rejectionTypes.stepAlreadyCompensated,
        message: 'Injected: the reservation was already released',
      },
    ],
  ] as [string, Fault][],
};

function compensationCases(): MatrixCase[] {
  const cases: MatrixCase[] = [];
  for (const [, compensation, activity] of compensationOf) {
    const { scenario, input, stop, extraFaults } = compensation === 'cancel-shipment' ? commitRefused : undeliverable;
    const expected: Expected = {
      status: 'failed',
      ...stop,
      compensations: unwindingOf(stop.step, false),
      committed: stop.step === 'confirm-order' ? [...forwardSteps] : stepsBefore(stop.step),
    };
    const base = { activity, role: 'compensation' as const, scenario, input, expected };
    cases.push(
      {
        ...base,
        fault: 'fails before commit',
        faults: [
          ...extraFaults,
          [activity, { kind: 'fails-before-commit', invocations: compensationFaultInvocations }],
        ],
        operatorRetries: true,
      },
      {
        ...base,
        fault: 'commits, answer lost',
        faults: [...extraFaults, [activity, { kind: 'loses-answer', invocations: compensationFaultInvocations }]],
        operatorRetries: true,
      },
      {
        ...base,
        fault: 'runs twice at once',
        faults: [...extraFaults, [activity, { kind: 'runs-twice' }]],
        operatorRetries: false,
      },
    );
  }
  return cases;
}

const allCases = [...stepCases(), ...compensationCases()];
const full = process.env.MATRIX === 'full';

/** The past-deadline cases the short form keeps: the money, and the longest unwinding. */
const shortFormDeadlineCases = new Set(['chargePayment', 'createShipment']);

/** Whether the case runs on `provider` in this run (see the module comment). */
function selected(provider: Provider, matrixCase: MatrixCase): boolean {
  if (full || !matrixCase.fault.endsWith('past deadline')) return true;
  return (
    provider === 'sqlite' && matrixCase.fault.startsWith('commits') && shortFormDeadlineCases.has(matrixCase.activity)
  );
}

function plainAddress() {
  return { ...springfieldAddress };
}

let sequence = 0;
function newOrder(overrides: Partial<OrderSagaInput>): OrderSagaInput {
  sequence += 1;
  return {
    orderId: `ord_fm${String(process.pid)}${String(sequence).padStart(8, '0')}`,
    customerId: 'cus_42',
    items: [{ sku: 'SKU-MUG', quantity: 2 }],
    paymentToken: 'tok_visa',
    shippingAddress: plainAddress(),
    approvalThresholdCents: 100_000,
    approvalTimeout: '24h',
    ...overrides,
  };
}

interface MatrixRow {
  provider: Provider;
  activity: string;
  role: string;
  fault: string;
  scenario: string;
  outcome: string;
  compensations: string;
  calls: string;
  invariants: string;
  /** The order's life in workflow time (skipped), and the case's real time. */
  orderTime: string;
  /** Events in the run's history: what the run cost Temporal. */
  historyEvents: number;
  /** Invocations of the activity under test (attempts, across rounds and runs). */
  attempts: number;
  realMs: number;
  verdict: string;
}

const rows: MatrixRow[] = [];

const providers = (['sqlite', 'postgres'] as const).filter((provider) =>
  (process.env.MATRIX_PROVIDERS ?? 'sqlite,postgres').split(',').includes(provider),
);

for (const provider of providers) {
  const cases = allCases.filter((matrixCase) => selected(provider, matrixCase));
  describe(
    `fault matrix on ${provider} (${cases.length} of ${allCases.length} cases)`,
    { skip: skipReason(provider) },
    () => {
      const faults = new FaultInjector();
      let stack: TimeSkippingStack;

      before(async () => {
        stack = await startTimeSkippingStack(provider, faults);
      });
      after(async () => {
        await stack?.stop();
      });

      for (const matrixCase of cases) {
        test(
          `${matrixCase.activity} ${matrixCase.role}: ${matrixCase.fault}`,
          { timeout: caseTimeoutMs },
          async (t) => {
            const row: MatrixRow = {
              provider,
              activity: matrixCase.activity,
              role: matrixCase.role,
              fault: matrixCase.fault,
              scenario: matrixCase.scenario,
              outcome: '',
              compensations: '',
              calls: '',
              invariants: '',
              orderTime: '',
              historyEvents: 0,
              attempts: 0,
              realMs: 0,
              verdict: 'FAIL',
            };
            rows.push(row);
            const started = Date.now();
            try {
              await runCase(stack, faults, matrixCase, row, t.signal);
              row.verdict = 'ok';
            } catch (error) {
              row.verdict = t.signal.aborted
                ? `FAIL: no outcome within ${caseTimeoutMs / 1_000} s (the run was terminated)`
                : `FAIL: ${(error as Error).message.split('\n')[0]}`;
              throw error;
            } finally {
              row.realMs = Date.now() - started;
            }
          },
        );
      }

      test(
        'a step that fails until its deadline is retried with backoff to the end, not in a loop of one-attempt rounds',
        {
          skip: !cases.some((matrixCase) => matrixCase.fault.endsWith('past deadline')) && 'no past-deadline case here',
        },
        () => {
          const pastDeadline = rows.filter((row) => row.provider === provider && row.fault.endsWith('past deadline'));
          assert.ok(pastDeadline.length > 0, 'a past-deadline case ran');
          for (const row of pastDeadline) {
            const where = `${row.activity} ${row.fault}`;
            assert.ok(row.attempts <= maxAttemptsPastShortDeadline, `${where}: ${row.attempts} attempts`);
            assert.ok(row.historyEvents <= maxHistoryPastShortDeadline, `${where}: ${row.historyEvents} events`);
          }
        },
      );
    },
  );
}

after(() => {
  console.log(renderMatrix(rows));
});

async function runCase(
  stack: TimeSkippingStack,
  faults: FaultInjector,
  matrixCase: MatrixCase,
  row: MatrixRow,
  timedOut: AbortSignal,
) {
  const { env } = stack;
  const input = newOrder(matrixCase.input);
  for (const [activity, fault] of matrixCase.faults) faults.inject(activity, input.orderId, fault);
  const handle = await env.client.workflow.start<typeof orderSaga>('orderSaga', {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue: orderWorkflowTaskQueue,
    args: [input],
  });
  // A run the case gave up on would go on retrying beside the next cases, and hold the workers at shutdown.
  timedOut.addEventListener('abort', () => void handle.terminate('the fault-matrix case timed out').catch(() => {}), {
    once: true,
  });

  if (matrixCase.operatorRetries) {
    const stuck = await untilNeedsAttention(stack, handle);
    const record = stuck.compensations.find((entry) => entry.status === 'failed');
    assert.equal(record?.compensation, compensationNameOf(matrixCase.activity), 'the faulted compensation is stuck');
    const tally = faults.tally(matrixCase.activity, input.orderId);
    assert.equal(tally.invocations, compensationFaultInvocations, 'every attempt of its budget ran');
    await handle.executeUpdate(resolveCompensation, { args: [{ action: 'retry', note: 'fault matrix' }] });
  }

  const { state, type } = await outcome(handle);
  const description = await handle.describe();
  const lifeMs = (description.closeTime?.getTime() ?? Date.now()) - description.startTime.getTime();
  row.orderTime = formatDuration(lifeMs);
  row.historyEvents = description.historyLength;
  row.outcome =
    state.status === 'confirmed' ? 'confirmed' : `${state.status} at ${state.failure?.step} (${state.failure?.type})`;
  row.compensations =
    state.compensations.map((entry) => `${entry.compensation}${entry.runs > 1 ? `×${entry.runs}` : ''}`).join(', ') ||
    '—';
  const tally = faults.tally(matrixCase.activity, input.orderId);
  row.attempts = tally.invocations;
  const twinErrors = tally.twins.flatMap(({ outcomes }) => outcomes.filter((twin) => twin !== 'ok'));
  row.calls = `${tally.invocations}/${tally.executions}${tally.answersLost ? ` (${tally.answersLost} lost)` : ''}${
    twinErrors.length > 0 ? ` (a twin: ${twinErrors.join('; ')})` : ''
  }`;

  const expected = matrixCase.expected;
  if (expected.status === 'confirmed') {
    assert.equal(type, undefined, `the order confirmed, not ${state.failure?.type}: ${state.failure?.message}`);
    assert.equal(state.status, 'confirmed');
    assert.deepEqual(state.compensations, [], 'nothing was unwound');
  } else {
    assert.equal(type, orderFailureTypes.failed);
    assert.equal(state.status, 'failed');
    assert.equal(state.failure?.step, expected.step);
    assert.equal(state.failure?.type, expected.type, state.failure?.message);
    assert.deepEqual(
      state.compensations.map((entry) => [entry.compensation, entry.status]),
      expected.compensations.map((name) => [name, 'completed']),
    );
    const faulted = state.compensations.find((entry) => entry.compensation === compensationNameOf(matrixCase.activity));
    if (faulted) assert.equal(faulted.runs, matrixCase.operatorRetries ? 2 : 1, 'runs of the faulted compensation');
  }

  assertFaultTook(matrixCase, tally);
  await assertRowsAgree(stack, input, state, expected);

  const report = await checkInvariants({ db: stack.db, client: env.client, gateway: stack.gatewayReader });
  row.invariants = report.ok ? 'ok' : `${report.violations.length} violation(s)`;
  assert.deepEqual(report.violations, [], 'the invariant checker passes');
}

function compensationNameOf(activity: string): CompensationName | undefined {
  return compensationOf.find(([, , name]) => name === activity)?.[1];
}

/**
 * Activities whose two executions at once are settled by the payment gateway, which answers the second call under
 * the same Idempotency-Key 409 (retry shortly) while the first runs: one twin may fail, and its retry answers.
 */
const settledAtTheGateway = new Set(['chargePayment', 'refundPayment']);

/** The fault really happened as the case says (a case whose fault never fired proves nothing). */
function assertFaultTook(matrixCase: MatrixCase, tally: ReturnType<FaultInjector['tally']>) {
  switch (matrixCase.fault) {
    case 'fails before commit': {
      const failed = matrixCase.role === 'step' ? stepFaultInvocations : compensationFaultInvocations;
      assert.ok(tally.invocations > failed, `more than ${failed} invocations, got ${tally.invocations}`);
      assert.equal(tally.executions, tally.invocations - failed, 'the failed attempts never reached the service');
      break;
    }
    case 'commits, answer lost':
      assert.equal(
        tally.answersLost,
        matrixCase.role === 'step' ? stepFaultInvocations : compensationFaultInvocations,
        'answers lost',
      );
      break;
    case 'commits, answer lost past deadline':
      assert.ok(tally.answersLost >= 5, `at least a round of answers lost, got ${tally.answersLost}`);
      break;
    case 'fails before commit past deadline':
      assert.equal(tally.executions, 0, 'the service was never called');
      break;
    case 'runs twice at once': {
      const [twins] = tally.twins;
      assert.ok(twins, 'the first attempt ran twice');
      assert.notEqual(twins.sameAnswer, false, `both calls answered, differently: ${twins.outcomes.join(' / ')}`);
      if (!settledAtTheGateway.has(matrixCase.activity)) {
        assert.deepEqual(twins.outcomes, ['ok', 'ok'], 'the loser of the race returns the winner’s answer');
      }
      break;
    }
  }
}

/** Advances workflow time until the order waits for an operator (a compensation's whole budget is ~10 min). */
async function untilNeedsAttention(
  stack: TimeSkippingStack,
  handle: WorkflowHandle<typeof orderSaga>,
): Promise<OrderSagaState> {
  for (let slept = 0; slept <= 12; slept += 1) {
    const state = await handle.query(getOrderState);
    if (state.status === 'needs-attention') return state;
    assert.ok(!['confirmed', 'failed', 'cancelled'].includes(state.status), `the order ended ${state.status}`);
    await stack.env.sleep('5m');
  }
  assert.fail('the order never came to need attention within an hour');
}

/**
 * The saga's final state agrees with every service's rows and the gateway, and nothing happened twice: one row
 * per step at most, and each domain event at most once per order.
 */
async function assertRowsAgree(
  stack: TimeSkippingStack,
  input: OrderSagaInput,
  state: OrderSagaState,
  expected: Expected,
) {
  const { db } = stack;
  const { orderId } = input;
  const order = await db.orders.order.findUnique({ where: { id: orderId } });
  const reservations = await db.inventory.reservation.findMany({ where: { orderId }, include: { lines: true } });
  const payments = await db.payments.payment.findMany({ where: { orderId } });
  const shipments = await db.shipping.shipment.findMany({ where: { orderId } });
  const charges = (await stack.gatewayReader.chargesOfOrder(orderId)).filter((charge) => charge.status === 'succeeded');
  assert.ok(reservations.length <= 1, `one reservation at most, found ${reservations.length}`);
  assert.ok(payments.length <= 1, `one payment at most, found ${payments.length}`);
  assert.ok(shipments.length <= 1, `one shipment at most, found ${shipments.length}`);
  assert.ok(charges.length <= 1, `one charge at the gateway at most, found ${charges.length}`);

  for (const service of serviceNames) {
    const events = await db[service].outboxEvent.findMany({ where: { orderId }, select: { type: true } });
    const seen = new Set<string>();
    for (const { type } of events) {
      assert.ok(!seen.has(type), `${service} recorded ${type} twice for the order`);
      seen.add(type);
    }
  }

  const [reservation] = reservations;
  const [payment] = payments;
  const [shipment] = shipments;
  const [charge] = charges;
  if (expected.status === 'confirmed') {
    assert.equal(order?.status, orderRowStatuses.confirmed);
    assert.equal(order.totalCents, state.totalCents);
    assert.equal(order.paymentId, state.paymentId);
    assert.equal(order.shipmentId, state.shipmentId);
    assert.equal(reservation?.status, reservationRowStatuses.committed);
    const reserved = reservation.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
    assert.equal(reserved, state.totalCents, 'the reservation is what the order totals');
    assert.equal(payment?.status, paymentRowStatuses.charged);
    assert.equal(payment.id, state.paymentId);
    assert.equal(payment.amountCents, state.totalCents);
    assert.equal(shipment?.status, shipmentRowStatuses.created);
    assert.equal(shipment.id, state.shipmentId);
    assert.equal(shipment.trackingNumber, state.trackingNumber);
    assert.equal(charge?.id, payment.gatewayChargeId, 'the gateway holds the recorded charge');
    assert.equal(charge.amountCents, state.totalCents);
    assert.equal(charge.refundedCents, 0);
    return;
  }

  const committed = (step: OrderStep) => expected.committed.includes(step);
  const present = (step: OrderStep, row: unknown) =>
    assert.equal(
      row !== undefined && row !== null,
      committed(step),
      `${step} ${committed(step) ? 'has' : 'has no'} row`,
    );
  present('create-order', order);
  present('reserve-stock', reservation);
  present('charge-payment', payment);
  present('create-shipment', shipment);
  if (order) assert.equal(order.status, orderRowStatuses.cancelled);
  if (reservation) assert.equal(reservation.status, reservationRowStatuses.released);
  if (payment) {
    assert.equal(payment.status, paymentRowStatuses.refunded);
    assert.equal(charge?.id, payment.gatewayChargeId);
  }
  if (charge) assert.equal(charge.refundedCents, charge.amountCents, 'the charge was refunded in full');
  if (shipment) assert.equal(shipment.status, shipmentRowStatuses.cancelled);
  if (state.paymentId !== null) assert.equal(payment?.id, state.paymentId);
  if (state.shipmentId !== null) assert.equal(shipment?.id, state.shipmentId);
}

function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  const seconds = Math.round(ms / 1_000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

function renderMatrix(matrix: readonly MatrixRow[]): string {
  const header = [
    'provider',
    'activity',
    'role',
    'fault',
    'scenario',
    'outcome',
    'compensations (×runs)',
    'calls (invocations/executions)',
    'invariants',
    'order time',
    'history events',
    'real ms',
    'verdict',
  ];
  const lines = matrix.map((row) => [
    row.provider,
    row.activity,
    row.role,
    row.fault,
    row.scenario,
    row.outcome,
    row.compensations,
    row.calls,
    row.invariants,
    row.orderTime,
    String(row.historyEvents),
    String(row.realMs),
    row.verdict,
  ]);
  return [
    `Fault matrix (${full ? 'full' : 'short form; MATRIX=full for all cases on both providers'})`,
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...lines.map((cells) => `| ${cells.map((cell) => cell.replaceAll('|', '/')).join(' | ')} |`),
  ].join('\n');
}
