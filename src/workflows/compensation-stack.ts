import { ActivityFailure, ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import {
  resolveCompensation,
  type CompensationName,
  type CompensationRecord,
  type OperatorResolution,
  type OrderStep,
} from './definitions';
import { assertOperatorResolution } from './message-validation';
import type { SagaState } from './saga-state';

/** A compensation pushed by a step that ran (or may have), ready to run. */
export interface PendingCompensation {
  step: OrderStep;
  compensation: CompensationName;
  run: () => Promise<unknown>;
}

/**
 * The saga's compensation stack, and the operator's part in unwinding it: a compensation whose retries ran out waits
 * for the resolveCompensation update (registered on construction) to retry it or to mark it resolved by hand.
 */
export class CompensationStack {
  private readonly pending: PendingCompensation[] = [];
  private resolution: OperatorResolution | undefined;

  constructor(private readonly saga: SagaState) {
    setHandler(
      resolveCompensation,
      (request) => {
        this.resolution = request;
        return saga.state;
      },
      {
        validator: (request: OperatorResolution) => {
          assertOperatorResolution(request);
          if (saga.state.status !== 'needs-attention' || this.resolution !== undefined) {
            throw ApplicationFailure.nonRetryable(
              `Order ${saga.state.orderId} has no compensation awaiting an operator: it is ${saga.state.status}`,
              'NothingToResolve',
            );
          }
        },
      },
    );
  }

  get size(): number {
    return this.pending.length;
  }

  push(compensation: PendingCompensation): void {
    this.pending.push(compensation);
  }

  /** Unwinds the stack in reverse; a compensation that cannot finish waits for an operator. */
  async unwind(): Promise<void> {
    const { saga } = this;
    const pending = [...this.pending].reverse();
    const records: CompensationRecord[] = pending.map(({ step, compensation }) => ({
      step,
      compensation,
      status: 'pending',
      runs: 0,
    }));
    saga.state.compensations = records;
    saga.publish('compensating');
    for (const [index, { run }] of pending.entries()) {
      const record = records[index]!;
      for (;;) {
        record.status = 'running';
        record.runs += 1;
        saga.describeProgress();
        try {
          await run();
          record.status = 'completed';
          saga.countCompensation(record, 'completed');
          log.info('Compensation completed', { compensation: record.compensation, runs: record.runs });
          saga.describeProgress();
          break;
        } catch (error) {
          if (!(error instanceof ActivityFailure)) throw error;
          record.status = 'failed';
          record.lastError = error.cause?.message ?? error.message;
          saga.countCompensation(record, 'failed');
          log.error('Compensation failed after its retries; waiting for an operator', {
            compensation: record.compensation,
            runs: record.runs,
            error: record.lastError,
          });
          saga.publish('needs-attention');
          await condition(() => this.resolution !== undefined);
          if (this.takeResolution(record) === 'mark-resolved') break;
        }
      }
    }
  }

  /** Applies the operator's word on a failed compensation: `mark-resolved` ends it, `retry` runs it again. */
  private takeResolution(record: CompensationRecord): OperatorResolution['action'] {
    const { action, note } = this.resolution!;
    this.resolution = undefined;
    record.operatorNote = note;
    log.info('Operator resolution received', { compensation: record.compensation, action });
    this.saga.publish('compensating');
    if (action === 'mark-resolved') {
      record.status = 'resolved-manually';
      this.saga.countCompensation(record, 'resolved-manually');
      this.saga.describeProgress();
    }
    return action;
  }
}
