import { taskQueues, type ServiceName } from '../../src/temporal/names';

/**
 * The bare workflow's layout mirrors the saga's: one queue per service, the workflow on the orders queue, a worker
 * process per queue. Its own queues, so the saga's workers never pick up its tasks (and the other way round).
 */
export const bareTaskQueues = Object.fromEntries(
  Object.entries(taskQueues).map(([service, queue]) => [service, `bench-bare.${queue}`]),
) as Record<ServiceName, string>;

export const bareWorkflowTaskQueue = bareTaskQueues.orders;

/**
 * The services the saga's six activities run on, in order: create-order, reserve-stock, charge-payment,
 * create-shipment, then confirm-order's commit-reservation and confirm (src/workflows/order-saga.ts).
 */
export const sagaActivityServices: readonly ServiceName[] = [
  'orders',
  'inventory',
  'payments',
  'shipping',
  'inventory',
  'orders',
];

export const bareWorkflowType = 'bareSaga';

export function bareWorkflowId(runTag: string, index: number): string {
  return `bench-bare-${runTag}-${index}`;
}
