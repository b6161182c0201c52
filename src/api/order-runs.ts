import {
  ApplicationFailure,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Request } from 'express';
import { orderWorkflowId } from '../temporal/names';
import { customerIdAttribute } from '../temporal/search-attributes';
import { getOrderState, orderFailureTypes, orderMemoFields, type OrderSagaState } from '../workflows/definitions';
import type { orderSaga } from '../workflows/order-saga';
import { HttpProblem } from './problem';
import { orderIdPattern } from './schemas';

/** How long one request waits for Temporal before answering 503. */
export const temporalDeadlineMs = 5_000;

/** Long enough for the first two steps or a cancellation's unwinding on a healthy system, short for an HTTP call. */
export const defaultAnswerWaitMs = 5_000;

export type OrderHandle = WorkflowHandle<typeof orderSaga>;

/** The URL of an order, as Location headers and `links.self` give it. */
export function orderPath(orderId: string): string {
  return `/orders/${encodeURIComponent(orderId)}`;
}

export function orderNotFound(orderId: string): HttpProblem {
  return new HttpProblem(404, 'Order not found', `No order ${orderId}`);
}

/** The orders' runs in Temporal as the routes see them: within the API's deadline, an unknown order a 404. */
export class OrderRuns {
  constructor(
    readonly client: Client,
    /** How long a placement or a cancellation waits for the saga before answering 202 with the order under way. */
    readonly answerWaitMs = defaultAnswerWaitMs,
  ) {}

  /** The call within `ms`: the client retries an unreachable server for a long time, an HTTP caller should not wait. */
  withinDeadline<T>(call: () => Promise<T>, ms = temporalDeadlineMs): Promise<T> {
    return this.client.withDeadline(Date.now() + ms, call);
  }

  /** The order the request's path names; 404 for an id that is not an order id. */
  handleFor(request: Request): { orderId: string; handle: OrderHandle } {
    const orderId = String(request.params.orderId);
    if (!orderIdPattern.test(orderId)) throw orderNotFound(orderId);
    return { orderId, handle: this.client.workflow.getHandle<typeof orderSaga>(orderWorkflowId(orderId)) };
  }

  /**
   * An order's state: once its run has completed, the saga's result, read from the run's history; while it runs, the
   * saga's query. A query needs a worker of the build the run is pinned to (Worker Deployment Versioning) and makes
   * it replay the whole run, so a closed order's state never depends on a retired build's workers.
   */
  async state(handle: OrderHandle): Promise<OrderSagaState> {
    const { status } = await this.withinDeadline(() => handle.describe());
    if (status.name === 'COMPLETED') return this.withinDeadline(() => handle.result());
    if (status.name === 'FAILED') {
      // A failed or cancelled order's run fails with its final state in the failure's details.
      const failure = await this.withinDeadline(() => handle.result()).then(
        () => undefined,
        (error: unknown) => (error instanceof WorkflowFailedError ? error.cause : undefined),
      );
      const settled: (string | null | undefined)[] = [orderFailureTypes.failed, orderFailureTypes.cancelled];
      if (failure instanceof ApplicationFailure && settled.includes(failure.type) && failure.details?.[0]) {
        return failure.details[0] as OrderSagaState;
      }
    }
    return this.withinDeadline(() => handle.query(getOrderState));
  }

  /**
   * The customer a run's order belongs to (undefined if there is no such run); runs started before the memo had it
   * carry the CustomerId search attribute.
   */
  async ownerOfRun(handle: WorkflowHandle): Promise<{ customerId: string | undefined } | undefined> {
    try {
      const { memo, typedSearchAttributes } = await this.withinDeadline(() => handle.describe());
      const fromMemo = memo?.[orderMemoFields.customerId];
      return { customerId: typeof fromMemo === 'string' ? fromMemo : typedSearchAttributes.get(customerIdAttribute) };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** The customer an order belongs to; 404 if there is no such order. */
  async customerOf(orderId: string, handle: WorkflowHandle): Promise<string | undefined> {
    const owner = await this.ownerOfRun(handle);
    if (!owner) throw orderNotFound(orderId);
    return owner.customerId;
  }

  /**
   * Maps the workflow's answer to an update: a validator's refusal becomes
   * 409, and so does an order that has finished (with its final state).
   */
  async update<T>(orderId: string, handle: OrderHandle, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        throw new HttpProblem(409, 'Conflict', error.cause?.message ?? error.message);
      }
      if (error instanceof WorkflowNotFoundError) throw await this.refusedAsFinished(orderId, handle);
      throw error;
    }
  }

  /** A finished run refuses updates with "not found": 409 with its final state, told apart from an unknown order. */
  private async refusedAsFinished(orderId: string, handle: OrderHandle): Promise<HttpProblem> {
    const finished = await this.withinDeadline(() => handle.describe()).then(
      (description) => description.status.name,
      () => undefined,
    );
    if (!finished) return orderNotFound(orderId);
    const state = await this.withinDeadline(() => handle.query(getOrderState)).catch(() => undefined);
    return new HttpProblem(
      409,
      'Conflict',
      `Order ${orderId} is finished (${state?.status ?? finished.toLowerCase()})`,
      undefined,
      state ? { state } : undefined,
    );
  }
}
