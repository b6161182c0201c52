import type { Client } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';
import type { HistoryBreakdown } from './results';
import { distribution, mean, round } from './stats';

const { EventType } = proto.temporal.api.enums.v1;
type Event = temporal.api.history.v1.IHistoryEvent;

function timeMs(event: Event | undefined): number | undefined {
  const time = event?.eventTime;
  if (!time) return undefined;
  return Number(String(time.seconds ?? 0)) * 1000 + (time.nanos ?? 0) / 1e6;
}

interface RunTimes {
  totalMs: number;
  activityQueueMs: number;
  activityExecutionMs: number;
  engineMs: number;
  activities: number;
  /** Events by type, named without the EVENT_TYPE_ prefix. */
  eventTypes: Map<string, number>;
}

/** Splits one closed run's time between its activities' queueing, their execution and the rest (the engine). */
export function runTimes(events: Event[]): RunTimes | undefined {
  const started = timeMs(events.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED));
  const closed = timeMs(events.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED));
  if (started === undefined || closed === undefined) return undefined;
  const scheduled = new Map<string, number>();
  const activityStarted = new Map<string, number>();
  let activityQueueMs = 0;
  let activityExecutionMs = 0;
  let activities = 0;
  const eventTypes = new Map<string, number>();
  for (const event of events) {
    const at = timeMs(event) ?? 0;
    const type = (EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, '');
    eventTypes.set(type, (eventTypes.get(type) ?? 0) + 1);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(String(event.eventId), at);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const key = String(event.activityTaskStartedEventAttributes?.scheduledEventId);
        activityStarted.set(key, at);
        activityQueueMs += at - (scheduled.get(key) ?? at);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const key = String(event.activityTaskCompletedEventAttributes?.scheduledEventId);
        activityExecutionMs += at - (activityStarted.get(key) ?? at);
        activities += 1;
        break;
      }
      default:
        break;
    }
  }
  const totalMs = closed - started;
  return {
    totalMs,
    activityQueueMs,
    activityExecutionMs,
    engineMs: Math.max(0, totalMs - activityQueueMs - activityExecutionMs),
    activities,
    eventTypes,
  };
}

/** Reads up to `limit` of the given runs' histories (spread over the list) and sums up where their time went. */
export async function historyBreakdown(
  client: Client,
  workflowIds: readonly string[],
  limit: number,
): Promise<HistoryBreakdown | null> {
  const step = Math.max(1, Math.floor(workflowIds.length / limit));
  const sample = workflowIds.filter((_, index) => index % step === 0).slice(0, limit);
  const runs: RunTimes[] = [];
  for (const workflowId of sample) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const times = runTimes(history.events ?? []);
    if (times) runs.push(times);
  }
  if (runs.length === 0) return null;
  const share = (pick: (run: RunTimes) => number) =>
    round(mean(runs.map((run) => (run.totalMs > 0 ? pick(run) / run.totalMs : 0))), 3);
  return {
    histories: runs.length,
    activitiesPerRun: round(mean(runs.map((run) => run.activities)), 2),
    totalMs: distribution(runs.map((run) => run.totalMs)),
    activityQueueMs: distribution(runs.map((run) => run.activityQueueMs)),
    activityExecutionMs: distribution(runs.map((run) => run.activityExecutionMs)),
    engineMs: distribution(runs.map((run) => run.engineMs)),
    shares: {
      activityQueue: share((run) => run.activityQueueMs),
      activityExecution: share((run) => run.activityExecutionMs),
      engine: share((run) => run.engineMs),
    },
    eventsPerRun: meanEventCounts(runs),
  };
}

/** Events per run by type, the mean over the runs read, most frequent first. */
function meanEventCounts(runs: readonly RunTimes[]): Record<string, number> {
  const totals = new Map<string, number>();
  for (const run of runs) {
    for (const [type, count] of run.eventTypes) totals.set(type, (totals.get(type) ?? 0) + count);
  }
  return Object.fromEntries(
    [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([type, total]) => [type, round(total / runs.length, 2)]),
  );
}
