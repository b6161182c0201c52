import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { projectRoot } from '../../src/project-root';
import {
  commitReservationKeyOf,
  compensationKeyOf,
  fenceKeyOf,
  findOrderIdOfWorkflow,
  orderIdOfWorkflow,
  orderWorkflowId,
  refundKeyOf,
  stepKeyOf,
} from '../../src/temporal/names';
import { legacyOrderIdFor, orderIdFor, orderIdPattern } from '../../src/temporal/order-ids';
import type { OrderSagaInput, OrderStep } from '../../src/workflows/definitions';

/**
 * The ids and keys names.ts derives are recorded in workflow histories (activity inputs), in the services'
 * idempotency records and at the payment gateway (refund Idempotency-Keys). Replaying a history does not compare
 * activity inputs, so these tests pin the derivations to what the recorded histories hold, and the keys that never
 * reach a history to their literal form.
 */

const historiesDir = path.join(projectRoot, 'tests', 'histories');

/** The saga step whose idempotency key each keyed activity carries (as `key` for a step, `stepKey` to undo one). */
const stepOfActivity: Record<string, OrderStep> = {
  createOrder: 'create-order',
  cancelOrder: 'create-order',
  reserveStock: 'reserve-stock',
  releaseStock: 'reserve-stock',
  chargePayment: 'charge-payment',
  refundPayment: 'charge-payment',
  createShipment: 'create-shipment',
  cancelShipment: 'create-shipment',
  confirmOrder: 'confirm-order',
};

interface KeyedInput {
  key?: string;
  stepKey?: string;
}

const recorded = readdirSync(historiesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && /^v\d+$/.test(entry.name))
  .flatMap((version) =>
    readdirSync(path.join(historiesDir, version.name))
      .filter((file) => file.endsWith('.json'))
      .map((file) => ({
        name: `${version.name}/${path.basename(file, '.json')}`,
        scenario: path.basename(file, '.json'),
        history: historyFromJSON(JSON.parse(readFileSync(path.join(historiesDir, version.name, file), 'utf8'))),
      })),
  );

describe('the ids and keys derived in src/temporal/names.ts', () => {
  test('recorded histories exist to check against', () => {
    assert.ok(recorded.length > 0);
  });

  for (const { name, scenario, history } of recorded) {
    test(`${name}: the order id, workflow id and every activity key are the ones names.ts derives`, () => {
      const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
      const input = defaultPayloadConverter.fromPayload<OrderSagaInput>(started.input!.payloads![0]!);
      // scripts/record-histories.ts places each scenario under the key history-<scenario>; the first versions
      // were recorded before keys were scoped to their customer.
      assert.ok(
        [orderIdFor(input.customerId, `history-${scenario}`), legacyOrderIdFor(`history-${scenario}`)].includes(
          input.orderId,
        ),
        `${input.orderId} is the order id of the key history-${scenario}`,
      );
      const workflowId = orderWorkflowId(input.orderId);
      assert.equal(orderIdOfWorkflow(workflowId), input.orderId);

      let keyed = 0;
      for (const event of history.events!) {
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (!scheduled) continue;
        const type = scheduled.activityType!.name!;
        const activityInput = defaultPayloadConverter.fromPayload<KeyedInput>(scheduled.input!.payloads![0]!);
        if (type === 'commitReservation') {
          assert.deepEqual(
            { key: activityInput.key, stepKey: activityInput.stepKey },
            {
              key: commitReservationKeyOf(stepKeyOf(workflowId, 'confirm-order')),
              stepKey: stepKeyOf(workflowId, 'reserve-stock'),
            },
          );
          keyed++;
          continue;
        }
        const key = activityInput.key ?? activityInput.stepKey;
        if (key === undefined) continue;
        const step = stepOfActivity[type];
        assert.ok(step, `${type} carries a key (${key}) but this test does not know its step`);
        assert.equal(key, stepKeyOf(workflowId, step), `${type}'s key`);
        keyed++;
      }
      assert.ok(keyed > 0, 'the history schedules keyed activities');
    });
  }

  test('the keys kept in the services and at the gateway, which no history records', () => {
    const chargeKey = stepKeyOf(orderWorkflowId('ord_cc9b74ea30556672272e424d'), 'charge-payment');
    assert.equal(chargeKey, 'order-ord_cc9b74ea30556672272e424d:charge-payment');
    assert.equal(compensationKeyOf(chargeKey), 'order-ord_cc9b74ea30556672272e424d:charge-payment:compensation');
    assert.equal(fenceKeyOf(chargeKey), 'order-ord_cc9b74ea30556672272e424d:charge-payment:fence');
    assert.equal(refundKeyOf(chargeKey), 'order-ord_cc9b74ea30556672272e424d:charge-payment:compensation:refund');
  });

  test('an order id derived from a key has the shape the API accepts, and only such ids have it', () => {
    assert.equal(orderIdFor('cus_ada', 'history-happy-path'), 'ord_cc9b74ea30556672272e424d');
    assert.equal(legacyOrderIdFor('history-happy-path'), 'ord_b06abdd331cdd140357eab4d');
    assert.match(orderIdFor('cus_ada', 'any key'), orderIdPattern);
    for (const id of [
      'ord_cc9b74ea30556672272e424',
      'ord_CC9B74EA30556672272E424D',
      'order-ord_cc9b74ea30556672272e424d',
    ]) {
      assert.doesNotMatch(id, orderIdPattern);
    }
  });

  test('a workflow id of another scheme names no order', () => {
    assert.equal(findOrderIdOfWorkflow('order-ord_cc9b74ea30556672272e424d'), 'ord_cc9b74ea30556672272e424d');
    for (const workflowId of ['order-', 'ord_cc9b74ea30556672272e424d', 'temporal-sys-scheduler']) {
      assert.equal(findOrderIdOfWorkflow(workflowId), undefined, workflowId);
      assert.throws(() => orderIdOfWorkflow(workflowId), /is not an order's workflow id/);
    }
  });
});
