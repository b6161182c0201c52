import { Context } from '@temporalio/activity';
import type { Correlation } from './envelope';

/**
 * The correlation of an event written by an activity: the order it is about,
 * and the workflow that runs the activity, as Temporal reports it. Taken from
 * the activity's context rather than parsed out of its idempotency key, whose
 * format is the workflow's business; and the same for every step, whether or
 * not its input names the workflow. Call it in the activity, outside the
 * transaction.
 */
export function activityCorrelation(orderId: string): Correlation {
  const workflow = Context.current().info.workflowExecution;
  // Every activity here is scheduled by the order saga; one that is not has no workflow to name.
  if (!workflow) throw new Error(`An event of order ${orderId} was written by an activity that no workflow runs`);
  return { orderId, workflowId: workflow.workflowId };
}
