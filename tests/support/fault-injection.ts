import { isDeepStrictEqual } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import type { RejectionType } from '../../src/domain/rejections';

/**
 * What an activity of one order suffers, on its first `invocations` invocations (counted across attempts and
 * across an operator's retry, which starts the attempts again):
 * - fails-before-commit: throws a retryable error before the service is called, so nothing is written;
 * - loses-answer: the service runs and commits, then the answer is lost (a retryable error instead);
 * - runs-twice: the service is called twice at once with the same input, as when an attempt Temporal gave up on
 *   still runs beside its retry; the retry's outcome is the activity's, the other is discarded;
 * - refuses: a business "no" (non-retryable) without calling the service.
 */
export type Fault =
  | { kind: 'fails-before-commit' | 'loses-answer'; invocations: number }
  | { kind: 'runs-twice' }
  | { kind: 'refuses'; type: RejectionType; message: string };

/** The failure type of the retryable errors the injector throws. */
export const injectedFaultType = 'InjectedFault';

/** What an activity of one order went through. */
export interface FaultTally {
  /** Invocations by Temporal (attempts, across runs). */
  invocations: number;
  /** Calls of the real activity (two per invocation that ran twice). */
  executions: number;
  /** Invocations whose commit happened and whose answer the injector threw away. */
  answersLost: number;
  /** For runs-twice: how the two racing calls ended, and whether both answered the same. */
  twins: { outcomes: [string, string]; sameAnswer: boolean | null }[];
}

type ActivityFunction = (input: unknown) => Promise<unknown>;

const describeOutcome = (outcome: PromiseSettledResult<unknown>) =>
  outcome.status === 'fulfilled' ? 'ok' : `error: ${(outcome.reason as Error)?.message ?? String(outcome.reason)}`;

/**
 * Injects faults into real activities, per (activity name, order id): {@link wrap} a worker's activities once,
 * then {@link inject} before each order. Activities of orders without a fault run untouched.
 */
export class FaultInjector {
  private readonly faults = new Map<string, Fault>();
  private readonly tallies = new Map<string, FaultTally>();

  inject(activity: string, orderId: string, fault: Fault): void {
    this.faults.set(`${activity}:${orderId}`, fault);
  }

  tally(activity: string, orderId: string): FaultTally {
    return this.tallyOf(`${activity}:${orderId}`);
  }

  /** The same activities, each going through the injector; every activity input names its order (`orderId`). */
  wrap(activities: object): Record<string, ActivityFunction> {
    return Object.fromEntries(
      Object.entries(activities as Record<string, ActivityFunction>).map(([name, activity]) => [
        name,
        (input: unknown) => this.invoke(name, activity, input),
      ]),
    );
  }

  private tallyOf(key: string): FaultTally {
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { invocations: 0, executions: 0, answersLost: 0, twins: [] };
      this.tallies.set(key, tally);
    }
    return tally;
  }

  private async invoke(name: string, activity: ActivityFunction, input: unknown): Promise<unknown> {
    const orderId = (input as { orderId?: unknown }).orderId;
    const key = `${name}:${String(orderId)}`;
    const fault = this.faults.get(key);
    const tally = this.tallyOf(key);
    tally.invocations += 1;
    const execute = () => {
      tally.executions += 1;
      return activity(input);
    };
    if (!fault) return execute();
    switch (fault.kind) {
      case 'refuses':
        throw ApplicationFailure.nonRetryable(fault.message, fault.type);
      case 'fails-before-commit':
        if (tally.invocations <= fault.invocations) {
          throw ApplicationFailure.retryable(`Injected: ${name} failed before it committed`, injectedFaultType);
        }
        return execute();
      case 'loses-answer': {
        const answer = await execute();
        if (tally.invocations <= fault.invocations) {
          tally.answersLost += 1;
          throw ApplicationFailure.retryable(
            `Injected: ${name} committed, then its answer was lost`,
            injectedFaultType,
          );
        }
        return answer;
      }
      case 'runs-twice': {
        if (tally.invocations > 1) return execute();
        const [first, second] = await Promise.allSettled([execute(), execute()]);
        tally.twins.push({
          outcomes: [describeOutcome(first), describeOutcome(second)],
          sameAnswer:
            first.status === 'fulfilled' && second.status === 'fulfilled'
              ? isDeepStrictEqual(first.value, second.value)
              : null,
        });
        if (second.status === 'rejected') throw second.reason;
        return second.value;
      }
    }
  }
}
