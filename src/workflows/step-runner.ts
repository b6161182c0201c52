import { msToNumber } from '@temporalio/common/lib/time';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  patched,
  TimeoutFailure,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import { isRejectionType } from '../domain/rejections';
import {
  defaultOrderDeadlines,
  defaultWorkerWaitLimit,
  orderFailureTypes,
  type OrderDeadlines,
  type OrderFailure,
  type OrderStep,
} from './definitions';
import type { CompensationStack } from './compensation-stack';
import { sagaPatches } from './patches';
import { SagaStop, type SagaState } from './saga-state';
import type { SagaOrder, SagaStep } from './saga-steps';

/*
 * Steps retry transient faults with backoff, in rounds: when a round's
 * attempts run out the saga does not fail the order, it says that the order
 * waits (state, search attribute, metric) and starts another round, until the
 * step succeeds, the service gives a business answer (thrown non-retryable,
 * which stops the saga at once) or the step's business deadline passes.
 * Rounds exist only so that the workflow sees the trouble and can publish it;
 * the retry policy inside a round is Temporal's.
 */

/** The first round: quick retries for a blip, about 15 s of backoff before the order says it waits. */
export const firstRound: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
};

/**
 * Every later round: slower, so a long outage costs a few history events an
 * hour (each round adds three), not thousands; almost 6 min of backoff.
 */
const laterRound: RetryPolicy = {
  initialInterval: '15s',
  backoffCoefficient: 2,
  maximumInterval: '2m',
  maximumAttempts: 6,
};

/** When a step stops waiting out trouble and fails the order; `at` null: never (the point of no return). */
interface StepDeadline {
  at: number | null;
  /** The business rule, for the failure message, e.g. "payment within 15m". */
  rule: string;
}

const noDeadline: StepDeadline = { at: null, rule: 'retried until done' };

/** Runs the rows of the step table (saga-steps.ts) for one order: in rounds, visibly waiting, each compensable. */
export class StepRunner {
  private readonly deadlines: OrderDeadlines;
  private readonly workerWaitLimit: string;
  /** Each business deadline starts when the first step it bounds starts (acceptance: with the run). */
  private readonly started = new Map<keyof OrderDeadlines, StepDeadline>();

  constructor(
    private readonly saga: SagaState,
    private readonly compensations: CompensationStack,
    private readonly order: SagaOrder,
  ) {
    this.deadlines = order.input.deadlines ?? defaultOrderDeadlines;
    this.workerWaitLimit = order.input.workerWaitLimit ?? defaultWorkerWaitLimit;
  }

  /**
   * Runs a step to completion even if the run is cancelled meanwhile, and
   * pushes its compensation unless the service rejected the step outright
   * (a rejection changes nothing). A step that stopped without an answer
   * (its deadline passed, the order was cancelled while it waited, or a run
   * recorded before steps waited ran out of retries) may or may not have
   * taken effect, so it is compensated too; the services make that safe (a
   * compensation of nothing is a no-op, and it fences late retries).
   */
  run<Result>(step: SagaStep<void, Result>): Promise<Result>;
  run<Given, Result>(step: SagaStep<Given, Result>, given: Given): Promise<Result>;
  async run<Given, Result>(step: SagaStep<Given | undefined, Result>, given?: Given): Promise<Result> {
    const deadline = this.deadlineOf(step);
    this.saga.stopIfCancelled(step.name);
    this.saga.enterStep(step.name);
    try {
      const answer = await CancellationScope.nonCancellable(() => this.perform(step, deadline, given));
      this.saga.state.completedSteps.push(step.name);
      this.pushCompensation(step);
      return answer;
    } catch (error) {
      const failure = error instanceof SagaStop ? error.failure : toOrderFailure(step.name, error);
      if (!isRejectionType(failure.type)) this.pushCompensation(step);
      throw new SagaStop(failure);
    } finally {
      this.saga.leaveStep();
    }
  }

  /**
   * The step's activities, one after the other. Async only for a step with activities to run first, as the saga
   * always was: an extra await would run the commands that follow the step a microtask later, and an update handler
   * answering in the same workflow task could then come between them.
   */
  private perform<Given, Result>(step: SagaStep<Given, Result>, deadline: StepDeadline, given: Given): Promise<Result> {
    const runs = () =>
      this.untilAnswered(step.name, deadline, (options, round) => step.runs.call(options, this.order, given, round));
    return step.first ? this.performAfter(step.first, step.name, deadline, given, runs) : runs();
  }

  private async performAfter<Given, Result>(
    first: NonNullable<SagaStep<Given, Result>['first']>,
    step: OrderStep,
    deadline: StepDeadline,
    given: Given,
    runs: () => Promise<Result>,
  ): Promise<Result> {
    for (const activity of first) {
      if (patched(activity.since)) {
        await this.untilAnswered(step, deadline, (options, round) => activity.call(options, this.order, given, round));
      }
    }
    return runs();
  }

  private pushCompensation<Given, Result>({ name, compensation }: SagaStep<Given, Result>): void {
    if (compensation) {
      this.compensations.push({ step: name, compensation: compensation.name, run: () => compensation.run(this.order) });
    }
  }

  private deadlineOf<Given, Result>({ deadline }: SagaStep<Given, Result>): StepDeadline {
    if (deadline === null) return noDeadline;
    let started = this.started.get(deadline);
    if (!started) {
      const duration = this.deadlines[deadline];
      started = { at: Date.now() + msToNumber(duration), rule: `${deadline} within ${duration}` };
      this.started.set(deadline, started);
    }
    return started;
  }

  /**
   * Runs one activity of `step` in rounds of retries until it answers. A round
   * that ends on transient trouble makes the order wait, visibly, and another
   * round starts; the order stops only on a business answer, a failure that
   * retrying cannot change, a cancellation, or the step's deadline.
   */
  private async untilAnswered<T>(
    step: OrderStep,
    deadline: StepDeadline,
    call: (options: ActivityOptions, round: number) => Promise<T>,
  ): Promise<T> {
    for (let round = 0; ; round += 1) {
      try {
        const answer = await call(this.roundOptions(round, deadline), round);
        this.saga.stopWaiting();
        return answer;
      } catch (error) {
        const reason = error instanceof ActivityFailure ? transientTrouble(error, this.workerWaitLimit) : null;
        if (reason === null || !patched(sagaPatches.stepsWaitOutTransientFailures)) throw error;
        // A round bounded by the deadline ends with retry state TIMEOUT when its schedule-to-close ran out, or when
        // the next retry would not start before it: either way no attempt fits before the deadline. Going round again
        // would make a round of one attempt after another in the deadline's last moments.
        // (A task no worker took within its limit ends with TIMEOUT too: that one is not about the deadline.)
        const outOfTime =
          error instanceof ActivityFailure &&
          error.retryState === 'TIMEOUT' &&
          !(error.cause instanceof TimeoutFailure && error.cause.timeoutType === 'SCHEDULE_TO_START');
        if (deadline.at !== null && (outOfTime || Date.now() >= deadline.at)) {
          throw new SagaStop({
            step,
            type: orderFailureTypes.deadlineExceeded,
            message: `${step} did not succeed by its deadline (${deadline.rule}): ${reason}`,
          });
        }
        // A cancellation that arrived while the step waited takes effect now rather than after the outage.
        this.saga.stopIfCancelled(step);
        this.saga.wait(step, reason, deadline.at);
      }
    }
  }

  private roundOptions(round: number, deadline: StepDeadline): ActivityOptions {
    const remaining = deadline.at === null ? null : Math.max(deadline.at - Date.now(), 1_000);
    return {
      retry: round === 0 ? firstRound : laterRound,
      // Only the first round: once the order says it waits for a worker, the task waits in its queue for as long as
      // it takes. A limit on every round would livelock a queue whose backlog takes longer than the limit to drain:
      // each task would time out and queue again at the back before a worker reached it.
      ...(round === 0 ? { scheduleToStartTimeout: this.workerWaitLimit } : {}),
      // The deadline bounds the round too, so an order does not outlive it by a round of backoff.
      ...(remaining === null ? {} : { scheduleToCloseTimeout: remaining }),
    };
  }
}

/**
 * What kept a round of retries from an answer, when another round may get
 * one; null when it will not (a business answer, or a non-retryable failure,
 * which is a bug that retrying repeats).
 */
function transientTrouble(error: ActivityFailure, workerWaitLimit: string): string | null {
  const cause = error.cause;
  if (cause instanceof TimeoutFailure) {
    return cause.timeoutType === 'SCHEDULE_TO_START'
      ? `no worker took ${error.activityType} from its task queue within ${workerWaitLimit}: its workers are down or all busy`
      : `${error.activityType} timed out (${cause.timeoutType})`;
  }
  if (cause instanceof ApplicationFailure && (cause.nonRetryable || isRejectionType(cause.type ?? undefined))) {
    return null;
  }
  if (error.retryState === 'NON_RETRYABLE_FAILURE') return null;
  return cause?.message ?? error.message;
}

/** What stopped a step: a service's rejection, or retries that ran out. */
function toOrderFailure(step: OrderStep, error: unknown): OrderFailure {
  if (!(error instanceof ActivityFailure)) throw error;
  const cause = error.cause;
  if (cause instanceof ApplicationFailure && isRejectionType(cause.type ?? undefined)) {
    return { step, type: cause.type!, message: cause.message };
  }
  return {
    step,
    type: orderFailureTypes.stepFailed,
    message: `${step} did not succeed within its retry budget: ${cause?.message ?? error.message}`,
  };
}
