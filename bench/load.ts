import type { Client } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';

const { HistoryEventFilterType, EventType } = proto.temporal.api.enums.v1;

export type RunOutcome = 'completed' | 'failed' | 'unfinished';

/**
 * Waits for a run to close by long-polling its history for the close event: codec-agnostic (no payload is decoded),
 * and what `handle.result()` does underneath. 'unfinished' once `deadline` passes.
 */
export async function waitForClose(
  client: Client,
  namespace: string,
  workflowId: string,
  deadline: number,
): Promise<RunOutcome> {
  while (Date.now() < deadline) {
    let events: temporal.api.history.v1.IHistoryEvent[];
    try {
      const response = await client.connection.withDeadline(Math.min(deadline, Date.now() + 30_000), () =>
        client.workflowService.getWorkflowExecutionHistory({
          namespace,
          execution: { workflowId },
          waitNewEvent: true,
          historyEventFilterType: HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
          skipArchival: true,
        }),
      );
      events = response.history?.events ?? [];
    } catch (error) {
      // A long poll cut at its own deadline: ask again until ours.
      if (Date.now() < deadline && /deadline|DEADLINE_EXCEEDED/i.test(String(error))) continue;
      if (Date.now() >= deadline) return 'unfinished';
      throw error;
    }
    const close = events[events.length - 1];
    if (close) {
      return close.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED ? 'completed' : 'failed';
    }
  }
  return 'unfinished';
}

export interface LoadOptions {
  concurrency: number;
  /** Runs started at most. */
  maxRuns: number;
  /** No run is started after this long... */
  deadlineMs: number;
  /** ...and runs still open this long after it are abandoned as unfinished. */
  drainMs: number;
  /** Starts run `index`, resolving with its workflow id. */
  start: (index: number) => Promise<string>;
  client: Client;
  namespace: string;
  /** Called about every 2 s with the runs finished so far. */
  onProgress?: (finished: number, elapsedMs: number) => void;
}

export interface LoadOutcome {
  /** Workflow ids and latencies (ms, from start() called to the close seen) of the completed runs. */
  completed: { workflowId: string; latencyMs: number }[];
  failed: number;
  unfinished: number;
  durationMs: number;
  hitDeadline: boolean;
  errors: string[];
}

/** A closed loop: `concurrency` runs in flight at all times, each replaced as soon as it closes. */
export async function runClosedLoop(options: LoadOptions): Promise<LoadOutcome> {
  const { concurrency, maxRuns, deadlineMs, drainMs, start, client, namespace, onProgress } = options;
  const begin = performance.now();
  const startDeadline = Date.now() + deadlineMs;
  const closeDeadline = startDeadline + drainMs;
  const outcome: LoadOutcome = {
    completed: [],
    failed: 0,
    unfinished: 0,
    durationMs: 0,
    hitDeadline: false,
    errors: [],
  };
  let started = 0;
  let lastCloseAt = begin;
  const noteError = (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (outcome.errors.length < 5 && !outcome.errors.includes(message)) outcome.errors.push(message);
  };
  const progress = setInterval(
    () => onProgress?.(outcome.completed.length + outcome.failed, performance.now() - begin),
    2_000,
  );
  progress.unref();

  const lane = async () => {
    while (started < maxRuns) {
      if (Date.now() >= startDeadline) {
        outcome.hitDeadline = true;
        return;
      }
      const index = started;
      started += 1;
      const sentAt = performance.now();
      try {
        const workflowId = await start(index);
        const result = await waitForClose(client, namespace, workflowId, closeDeadline);
        if (result === 'completed') {
          lastCloseAt = performance.now();
          outcome.completed.push({ workflowId, latencyMs: lastCloseAt - sentAt });
        } else if (result === 'failed') {
          outcome.failed += 1;
          noteError(`${workflowId} closed without completing`);
        } else {
          outcome.unfinished += 1;
        }
      } catch (error) {
        outcome.failed += 1;
        noteError(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    clearInterval(progress);
  }
  outcome.durationMs = lastCloseAt - begin;
  return outcome;
}
