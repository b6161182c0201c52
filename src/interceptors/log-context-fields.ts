import { orderWorkflowId } from '../temporal/names';

/**
 * The activity header that carries the id of the request that placed the order, from the order's run (its memo) to
 * each activity it schedules, whose log lines then name it.
 */
export const requestIdActivityHeader = 'order-saga-request-id';

/** orderWorkflowId prefixes the order id; its own output tells the prefix, so the scheme stays spelt in one place. */
const orderWorkflowIdPrefix = orderWorkflowId('');

/** The order a run (or an activity of that run) works for; none for a workflow id of another scheme. */
export function orderIdOfWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(orderWorkflowIdPrefix) && workflowId.length > orderWorkflowIdPrefix.length
    ? workflowId.slice(orderWorkflowIdPrefix.length)
    : undefined;
}
