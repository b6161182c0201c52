/**
 * A deliberately incompatible order workflow for tests/replay.test.ts: it
 * starts like the real one (the same search-attribute upserts) and then
 * reserves stock before it creates the order, the two first activities
 * swapped. Replaying a recorded order history against it must fail, which is
 * how the replay test shows that it would catch such a change.
 */
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { InventoryActivities } from '../../src/activities/inventory';
import type { OrdersActivities } from '../../src/activities/orders';
import { taskQueues } from '../../src/temporal/names';
import {
  customerIdAttribute,
  needsAttentionAttribute,
  orderIdAttribute,
  orderStatusAttribute,
} from '../../src/temporal/search-attributes';
import type { OrderSagaInput } from '../../src/workflows/definitions';

const orders = proxyActivities<OrdersActivities>({ startToCloseTimeout: '10s', taskQueue: taskQueues.orders });
const inventory = proxyActivities<InventoryActivities>({ startToCloseTimeout: '10s', taskQueue: taskQueues.inventory });

/** Registered under the real workflow's type name, so the replayer picks it for recorded order histories. */
export async function orderSaga(input: OrderSagaInput): Promise<void> {
  const { workflowId } = workflowInfo();
  const { orderId, customerId, items } = input;
  upsertSearchAttributes([
    { key: orderIdAttribute, value: orderId },
    { key: customerIdAttribute, value: customerId },
  ]);
  upsertSearchAttributes([
    { key: orderStatusAttribute, value: 'running' },
    { key: needsAttentionAttribute, value: false },
  ]);
  await inventory.reserveStock({ key: `${workflowId}:reserve-stock`, orderId, items });
  await orders.createOrder({ key: `${workflowId}:create-order`, orderId, workflowId, customerId, items });
}
