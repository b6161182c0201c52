import { msOptionalToNumber } from '@temporalio/common/lib/time';
import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { InventoryActivities, StockReservation } from '../activities/inventory';
import type { OrdersActivities } from '../activities/orders';
import type { PaymentsActivities } from '../activities/payments';
import type { Shipment, ShippingActivities } from '../activities/shipping';
import { formatCents } from '../domain/money';
import { commitReservationKeyOf, stepKeyOf, taskQueues } from '../temporal/names';
import {
  stepTimeoutMs,
  type CompensationName,
  type OrderDeadlines,
  type OrderSagaInput,
  type OrderSagaState,
  type OrderStep,
} from './definitions';
import { sagaPatches } from './patches';
import { firstRound } from './step-runner';

/*
 * The saga's step table: for each step, what runs (an activity on its service's task queue, or for the orders
 * service's own steps a local activity in the orders worker that runs the workflow), what undoes it, and how
 * both read in the Web UI. orderSaga (order-saga.ts) says in which order they run; StepRunner (step-runner.ts) says
 * how a step waits out trouble; CompensationStack (compensation-stack.ts) unwinds what they pushed.
 */

/** Each step call sets its round's retry policy (roundOptions); this is the first round's. */
const stepOptions: ActivityOptions = { startToCloseTimeout: stepTimeoutMs, retry: firstRound };

/**
 * Compensations get a longer budget (about ten minutes). Past it the saga
 * does not give up: it waits for an operator to retry or resolve by hand.
 */
const compensationOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 14 },
};

function onServiceQueues(options: ActivityOptions) {
  return {
    orders: proxyActivities<OrdersActivities>({ ...options, taskQueue: taskQueues.orders }),
    inventory: proxyActivities<InventoryActivities>({ ...options, taskQueue: taskQueues.inventory }),
    payments: proxyActivities<PaymentsActivities>({ ...options, taskQueue: taskQueues.payments }),
    shipping: proxyActivities<ShippingActivities>({ ...options, taskQueue: taskQueues.shipping }),
  };
}

const forward = onServiceQueues(stepOptions);
const undo = onServiceQueues(compensationOptions);

/*
 * The orders service's activities as local activities: the orders worker runs the workflow and registers them, so
 * they skip the two dispatches of an activity task (scheduled to started, completed to the next workflow task), about
 * 100 ms each on the dev server. Every backoff (the shortest is 1 s) waits on a workflow timer rather than in the
 * worker: the workflow task is not held open meanwhile, so queries and updates (a cancellation) are answered between
 * attempts, and the time-skipping server skips the wait as it does an activity task's.
 */
const inWorkflowWorker: LocalActivityOptions = { localRetryThreshold: '500ms' };
const forwardInWorker = proxyLocalActivities<OrdersActivities>({ ...stepOptions, ...inWorkflowWorker });
const undoInWorker = proxyLocalActivities<OrdersActivities>({ ...compensationOptions, ...inWorkflowWorker });

/** What the rows read: the order as placed, its run, and the saga's state (which the compensations describe). */
export interface SagaOrder {
  readonly input: OrderSagaInput;
  readonly workflowId: string;
  /** The fingerprint of the request body that placed the order, from the run's memo; undefined in runs without. */
  readonly requestFingerprint: string | undefined;
  readonly state: OrderSagaState;
}

/** An activity bound to what a step sends it and to its summary; each round of retries adds its own options. */
export interface StepActivity<Given, Result> {
  /** `round` counts the step's rounds of retries from 0; `options` are that round's. */
  call(options: ActivityOptions, order: SagaOrder, given: Given, round: number): Promise<Result>;
}

/** What undoes a step; its summary and input are read when it runs (a retry by an operator reads them again). */
export interface StepCompensation {
  name: CompensationName;
  run(order: SagaOrder): Promise<unknown>;
}

/** One row of the table. `Given` is what the step needs from the steps before it, `Result` what it answers. */
export interface SagaStep<Given, Result> {
  name: OrderStep;
  /** The business deadline that bounds how long it waits out trouble; null for the point of no return. */
  deadline: keyof OrderDeadlines | null;
  /** Activities a later release added ahead of the step's own, each run only where `patched(since)` says so. */
  first?: readonly (StepActivity<Given, unknown> & { since: string })[];
  /** What runs: the step's activity, whose answer is the step's. */
  runs: StepActivity<Given, Result>;
  /** Pushed once the step ran, or may have run (anything but a rejection). */
  compensation?: StepCompensation;
}

/** An activity proxy: the activity, its service's task queue and the options of its kind. */
interface Activity<Input, Result> {
  executeWithOptions(options: ActivityOptions, args: [Input]): Promise<Result>;
}

/** A local activity proxy: the activity, run by the worker that runs the workflow, and the options of its kind. */
interface LocalActivity<Input, Result> {
  executeWithOptions(options: LocalActivityOptions, args: [Input]): Promise<Result>;
}

/** An orders activity both ways: in the workflow's worker, and on the orders queue as runs before the patch had it. */
interface OrdersActivity<Input, Result> {
  /** The activity's name, which its failures carry. */
  type: string;
  inWorker: LocalActivity<Input, Result>;
  onQueue: Activity<Input, Result>;
}

/**
 * A local activity's failure reaches the workflow as the activity's own error (an ApplicationFailure, or a
 * TimeoutFailure), not wrapped in an ActivityFailure as an activity task's is. The step runner and the compensation
 * stack read what to do from the wrapper (a rejection, transient trouble, a timeout), so the local activity's failure
 * gets the wrapper the same failure would have had on the queue.
 */
async function asActivityFailure<Result>(type: string, running: Promise<Result>): Promise<Result> {
  try {
    return await running;
  } catch (error) {
    if (error instanceof ActivityFailure || !(error instanceof Error)) throw error;
    const retryState =
      error instanceof ApplicationFailure && error.nonRetryable
        ? 'NON_RETRYABLE_FAILURE'
        : error.name === 'TimeoutFailure'
          ? 'TIMEOUT'
          : 'MAXIMUM_ATTEMPTS_REACHED';
    throw new ActivityFailure('Local activity failed', type, undefined, retryState, undefined, error);
  }
}

interface CallText<Given, Input> {
  /** Shown in the Web UI beside the call. */
  summary: (order: SagaOrder, given: Given) => string;
  input: (order: SagaOrder, given: Given) => Input;
}

function activity<Given, Input, Result>(
  runs: Activity<Input, Result>,
  { summary, input }: CallText<Given, Input>,
): StepActivity<Given, Result> {
  return {
    call: (options, order, given) =>
      runs.executeWithOptions({ ...options, summary: summary(order, given) }, [input(order, given)]),
  };
}

/**
 * An orders step: its first round runs in the workflow's worker (since the patch), its later rounds, once the order
 * waits out trouble, on the orders queue as before. There the server retries a round in three history events, where
 * in the worker each attempt past the first round's backoffs would cost a timer and a workflow task: an outage that
 * lasts days (the confirmation has no deadline) stays far from the history's size limit. A worker-wait limit means
 * nothing in the worker that runs the workflow, so the first round in the worker goes without one.
 */
function ordersActivity<Given, Input, Result>(
  runs: OrdersActivity<Input, Result>,
  text: CallText<Given, Input>,
): StepActivity<Given, Result> {
  const onQueue = activity(runs.onQueue, text);
  return {
    call: (options, order, given, round) => {
      if (round > 0 || !patched(sagaPatches.ordersStepsInWorkflowWorker)) {
        return onQueue.call(options, order, given, round);
      }
      const retry = options.retry;
      const scheduleToCloseTimeout = msOptionalToNumber(options.scheduleToCloseTimeout);
      const round0: LocalActivityOptions = {
        ...(retry === undefined ? {} : { retry }),
        ...(scheduleToCloseTimeout === undefined ? {} : { scheduleToCloseTimeout }),
        summary: text.summary(order, given),
      };
      return asActivityFailure(runs.type, runs.inWorker.executeWithOptions(round0, [text.input(order, given)]));
    },
  };
}

function compensation<Input>(
  name: CompensationName,
  runs: Activity<Input, unknown>,
  { summary, input }: CallText<void, Input>,
): StepCompensation {
  return { name, run: (order) => runs.executeWithOptions({ summary: summary(order) }, [input(order)]) };
}

/** An orders compensation: in the workflow's worker since the patch, on the orders queue in runs recorded before it. */
function ordersCompensation<Input>(
  name: CompensationName,
  runs: OrdersActivity<Input, unknown>,
  text: CallText<void, Input>,
): StepCompensation {
  const onQueue = compensation(name, runs.onQueue, text);
  return {
    name,
    run: (order) =>
      patched(sagaPatches.ordersStepsInWorkflowWorker)
        ? asActivityFailure(
            runs.type,
            runs.inWorker.executeWithOptions({ summary: text.summary(order) }, [text.input(order)]),
          )
        : onQueue.run(order),
  };
}

const keyOf = (order: SagaOrder, step: OrderStep) => stepKeyOf(order.workflowId, step);
const itemCount = ({ input }: SagaOrder) => input.items.reduce((count, item) => count + item.quantity, 0);
const itemList = ({ input }: SagaOrder) => input.items.map(({ sku, quantity }) => `${quantity} × ${sku}`).join(', ');
const totalText = ({ state }: SagaOrder) =>
  state.totalCents === null ? 'the order total' : formatCents(state.totalCents);
const reasonForCompensation = ({ state }: SagaOrder) => state.failure?.message ?? 'Order compensated';

export const createOrder: SagaStep<void, { orderId: string }> = {
  name: 'create-order',
  deadline: 'acceptance',
  runs: ordersActivity(
    { type: 'createOrder', inWorker: forwardInWorker.createOrder, onQueue: forward.orders.createOrder },
    {
      summary: (order) =>
        `Create order ${order.input.orderId}: ${itemCount(order)} item(s) for customer ${order.input.customerId}`,
      input: (order) => ({
        key: keyOf(order, 'create-order'),
        orderId: order.input.orderId,
        workflowId: order.workflowId,
        customerId: order.input.customerId,
        items: order.input.items,
        ...(order.requestFingerprint === undefined ? {} : { requestFingerprint: order.requestFingerprint }),
      }),
    },
  ),
  compensation: ordersCompensation(
    'cancel-order',
    { type: 'cancelOrder', inWorker: undoInWorker.cancelOrder, onQueue: undo.orders.cancelOrder },
    {
      summary: (order) => `Cancel order ${order.input.orderId}: ${reasonForCompensation(order)}`,
      input: (order) => ({
        stepKey: keyOf(order, 'create-order'),
        orderId: order.input.orderId,
        reason: reasonForCompensation(order),
      }),
    },
  ),
};

export const reserveStock: SagaStep<void, StockReservation> = {
  name: 'reserve-stock',
  deadline: 'acceptance',
  runs: activity(forward.inventory.reserveStock, {
    summary: (order) => `Reserve ${itemList(order)}`,
    input: (order) => ({ key: keyOf(order, 'reserve-stock'), orderId: order.input.orderId, items: order.input.items }),
  }),
  compensation: compensation('release-stock', undo.inventory.releaseStock, {
    summary: (order) => `Release the stock of ${itemList(order)}`,
    input: (order) => ({ stepKey: keyOf(order, 'reserve-stock'), orderId: order.input.orderId }),
  }),
};

export const chargePayment: SagaStep<{ reservation: StockReservation }, { paymentId: string }> = {
  name: 'charge-payment',
  deadline: 'payment',
  runs: activity(forward.payments.chargePayment, {
    summary: (_order, { reservation }) => `Charge ${formatCents(reservation.totalCents)}`,
    input: (order, { reservation }) => ({
      key: keyOf(order, 'charge-payment'),
      orderId: order.input.orderId,
      amountCents: reservation.totalCents,
      paymentToken: order.input.paymentToken,
    }),
  }),
  compensation: compensation('refund-payment', undo.payments.refundPayment, {
    // A charge whose retries ran out has no payment id here: the refund finds it, or finds nothing.
    summary: (order) =>
      order.state.paymentId
        ? `Refund ${totalText(order)} (payment ${order.state.paymentId})`
        : `Refund any charge of ${totalText(order)} for order ${order.input.orderId}`,
    input: (order) => ({ stepKey: keyOf(order, 'charge-payment'), orderId: order.input.orderId }),
  }),
};

export const createShipment: SagaStep<void, Shipment> = {
  name: 'create-shipment',
  deadline: 'shipment',
  runs: activity(forward.shipping.createShipment, {
    // The summary names the country only: summaries are shown to anyone who can open the run.
    summary: (order) => `Ship ${itemCount(order)} item(s) to ${order.input.shippingAddress.country}`,
    input: (order) => ({
      key: keyOf(order, 'create-shipment'),
      orderId: order.input.orderId,
      address: order.input.shippingAddress,
      itemCount: itemCount(order),
    }),
  }),
  compensation: compensation('cancel-shipment', undo.shipping.cancelShipment, {
    summary: ({ input, state }) =>
      state.shipmentId ? `Cancel shipment ${state.shipmentId}` : `Cancel any shipment of ${input.orderId}`,
    input: (order) => ({ stepKey: keyOf(order, 'create-shipment'), orderId: order.input.orderId }),
  }),
};

/** What the confirmation records: the answers of the steps before it. */
export interface ConfirmedOrder {
  reservation: StockReservation;
  payment: { paymentId: string };
  shipment: Shipment;
}

/**
 * The point of no return: no compensation, no deadline. The stock is committed before the order is confirmed, not
 * after: if either fails, the saga unwinds an order that is still pending (and releasing stock also returns a
 * committed reservation), whereas a confirmed order has nothing left to unwind.
 */
export const confirmOrder: SagaStep<ConfirmedOrder, { confirmed: true }> = {
  name: 'confirm-order',
  deadline: null,
  first: [
    {
      since: sagaPatches.commitReservationOnConfirm,
      ...activity(forward.inventory.commitReservation, {
        summary: (order) => `Commit the stock of ${itemList(order)}`,
        input: (order) => ({
          key: commitReservationKeyOf(keyOf(order, 'confirm-order')),
          stepKey: keyOf(order, 'reserve-stock'),
          orderId: order.input.orderId,
        }),
      }),
    },
  ],
  runs: ordersActivity(
    { type: 'confirmOrder', inWorker: forwardInWorker.confirmOrder, onQueue: forward.orders.confirmOrder },
    {
      summary: (order, { reservation, shipment }) =>
        `Confirm order ${order.input.orderId}: ${formatCents(reservation.totalCents)}, shipment ${shipment.shipmentId}`,
      input: (order, { reservation, payment, shipment }) => ({
        key: keyOf(order, 'confirm-order'),
        orderId: order.input.orderId,
        totalCents: reservation.totalCents,
        paymentId: payment.paymentId,
        shipmentId: shipment.shipmentId,
        shippingRate: shipment.rate,
      }),
    },
  ),
};
