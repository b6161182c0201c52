/**
 * A deliberately incompatible order workflow for tests/workflow/replay.test.ts: it
 * starts like the real one (the same search-attribute upserts, and a
 * placeOrder update that is accepted and never answers) and then
 * reserves stock before it creates the order, the two first activities
 * swapped. Replaying a recorded order history against it must fail, which is
 * how the replay test shows that it would catch such a change.
 */
import { condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { InventoryActivities } from '../../src/activities/inventory';
import type { OrdersActivities } from '../../src/activities/orders';
import { stepKeyOf, taskQueues } from '../../src/temporal/names';
import {
  customerIdAttribute,
  needsAttentionAttribute,
  orderIdAttribute,
  orderStatusAttribute,
} from '../../src/temporal/search-attributes';
import { placeOrder, type OrderSagaInput } from '../../src/workflows/definitions';

const orders = proxyActivities<OrdersActivities>({ startToCloseTimeout: '10s', taskQueue: taskQueues.orders });
const inventory = proxyActivities<InventoryActivities>({ startToCloseTimeout: '10s', taskQueue: taskQueues.inventory });

/** Registered under the real workflow's type name, so the replayer picks it for recorded order histories. */
export async function orderSaga(input: OrderSagaInput): Promise<void> {
  const { workflowId } = workflowInfo();
  const { orderId, customerId, items } = input;
  // Histories of runs placed through the API start with this update; it must be accepted as there.
  setHandler(placeOrder, async () => {
    await condition(() => false);
    throw new Error('unreachable');
  });
  upsertSearchAttributes([
    { key: orderIdAttribute, value: orderId },
    { key: customerIdAttribute, value: customerId },
  ]);
  upsertSearchAttributes([
    { key: orderStatusAttribute, value: 'running' },
    { key: needsAttentionAttribute, value: false },
  ]);
  await inventory.reserveStock({ key: stepKeyOf(workflowId, 'reserve-stock'), orderId, items });
  await orders.createOrder({ key: stepKeyOf(workflowId, 'create-order'), orderId, workflowId, customerId, items });
}
