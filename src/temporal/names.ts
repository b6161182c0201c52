/**
 * Every name shared between the API, the workers and the workflow: services,
 * their task queues, the order workflow's id scheme and the idempotency keys
 * derived from it (steps, compensations, fences). Nothing else spells them
 * out, except the order ids derived from Idempotency-Keys: order-ids.ts, since
 * they hash with node:crypto, which the workflow (importing this file) may not
 * load.
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

const orderWorkflowIdPrefix = 'order-';

/** The order's workflow id: one run per order id at a time, so Temporal itself refuses a second placement. */
export function orderWorkflowId(orderId: string): string {
  return `${orderWorkflowIdPrefix}${orderId}`;
}

/** The order a workflow id (or an activity of its run) works for; none for a workflow id of another scheme. */
export function findOrderIdOfWorkflow(workflowId: string): string | undefined {
  return workflowId.startsWith(orderWorkflowIdPrefix) && workflowId.length > orderWorkflowIdPrefix.length
    ? workflowId.slice(orderWorkflowIdPrefix.length)
    : undefined;
}

/** The order id of an order's workflow id (the inverse of orderWorkflowId); throws for any other workflow id. */
export function orderIdOfWorkflow(workflowId: string): string {
  const orderId = findOrderIdOfWorkflow(workflowId);
  if (orderId === undefined) throw new Error(`${workflowId} is not an order's workflow id`);
  return orderId;
}

/** The idempotency key of one saga step of a run: each service records the step's outcome under it. */
export function stepKeyOf(workflowId: string, step: string): string {
  return `${workflowId}:${step}`;
}

/** The key under which a step's compensation records itself. */
export function compensationKeyOf(stepKey: string): string {
  return `${stepKey}:compensation`;
}

/** The row a step and its compensation both lock before deciding (see lockStepFence); it records nothing. */
export function fenceKeyOf(stepKey: string): string {
  return `${stepKey}:fence`;
}

/** The gateway's Idempotency-Key for the refund of the charge made under the charge step's key. */
export function refundKeyOf(chargeStepKey: string): string {
  return `${compensationKeyOf(chargeStepKey)}:refund`;
}

/** The key of committing the reserved stock, part of the confirm step (one per confirmation). */
export function commitReservationKeyOf(confirmStepKey: string): string {
  return `${confirmStepKey}:commit-reservation`;
}
