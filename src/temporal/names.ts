/**
 * Every name shared between the API, the workers and the workflow: services,
 * their task queues and the order workflow's id scheme. Nothing else spells
 * them out.
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

export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}
