import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { stepTimeoutMs } from '../../src/workflows/definitions';
import type * as activities from './activities';
import { bareTaskQueues, sagaActivityServices } from './queues';

// The saga's step options, so both pay the same for timers and retry state.
const options: ActivityOptions = {
  startToCloseTimeout: stepTimeoutMs,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
};

const steps = sagaActivityServices.map(
  (service) => proxyActivities<typeof activities>({ ...options, taskQueue: bareTaskQueues[service] }).noop,
);

/** The engine's floor for the saga: the same number of activities, one after the other, on the same queue layout. */
export async function bareSaga(): Promise<number> {
  let done = 0;
  for (const [index, step] of steps.entries()) done += (await step(index)) >= 0 ? 1 : 0;
  return done;
}
