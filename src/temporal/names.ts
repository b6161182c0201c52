/**
 * Every name shared between the API, the workers and the workflow: services,
 * their task queues and the order workflow's id scheme. Nothing else spells
 * them out, except the order ids derived from Idempotency-Keys: order-ids.ts,
 * since they hash with node:crypto, which the workflow (importing this file)
 * may not load.
 */
export const serviceNames = ['orders', 'inventory', 'payments', 'shipping'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** One task queue per service, so each service's worker can scale and restart alone. */
export const taskQueues: Record<ServiceName, string> = {
  orders: 'order-saga.orders',
  inventory: 'order-saga.inventory',
  payments: 'order-saga.payments',
  shipping: 'order-saga.shipping',
};

/** The order workflow runs on the orders service's queue. */
export const orderWorkflowTaskQueue = taskQueues.orders;

/** The order's workflow id: one run per order id at a time, so Temporal itself refuses a second placement. */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

/** The order id of an order's workflow id (the inverse of orderWorkflowId). */
export function orderIdOfWorkflow(workflowId: string): string {
  if (!workflowId.startsWith('order-')) throw new Error(`${workflowId} is not an order's workflow id`);
  return workflowId.slice('order-'.length);
}
