import {
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
} from '@temporalio/client';
import type { Request, Response } from 'express';
import type { OrderRequest } from '../domain/order';
import { orderWorkflowId } from '../temporal/names';
import {
  approvalUpdateId,
  cancelOrder,
  decideApproval,
  finalStatuses,
  getOrderState,
  idempotencyKeyReusedType,
  orderFailureTypes,
  resolveCompensation,
  type OrderAcceptance,
} from '../workflows/definitions';
import { requireOperator, requireOwnerOrOperator } from './auth';
import { orderNotFound, orderPath, type OrderRuns } from './order-runs';
import { keyReused, type Placement } from './placement';
import { HttpProblem } from './problem';
import { logOrderOfRequest, requestContextOf } from './request-id';
import type { RouteHandler } from './route';
import {
  idempotencyKeyHeader,
  idempotencyKeySchema,
  idempotentReplayedHeader,
  type CancelRequest,
  type ApprovalDecision,
  type CompensationResolution,
  type OrderAccepted,
  type OrderCreated,
} from './schemas';

/** The handlers of the order routes (the write side); src/api/routes.ts declares the routes. */

/** RFC 7240: `Prefer: respond-async` asks for the 202 at once, without waiting for the acceptance. */
function prefersRespondAsync(request: Request): boolean {
  return (request.get('prefer') ?? '')
    .split(',')
    .some((preference) => preference.split(';')[0]!.trim().toLowerCase() === 'respond-async');
}

function idempotencyKeyOf(request: Request): string {
  const key = idempotencyKeySchema.safeParse(request.get(idempotencyKeyHeader));
  if (!key.success) {
    throw new HttpProblem(400, 'Invalid request', 'The Idempotency-Key header is required', [
      { field: idempotencyKeyHeader, message: key.error.issues[0]?.message ?? 'required' },
    ]);
  }
  return key.data;
}

/** 415 unless the body is JSON. */
function requireJson(request: Request): void {
  if (!request.is('application/json')) {
    throw new HttpProblem(415, 'Unsupported media type', 'Send the body as application/json');
  }
}

/** Cancel takes an optional body; if one is sent, it must be JSON. */
function requireJsonIfBody(request: Request): void {
  const length = Number(request.get('content-length') ?? 0);
  if (length > 0 || request.get('transfer-encoding')) requireJson(request);
}

/** The answer to a placement once the saga has decided: 201 with the accepted order, or the rejection. */
function answerAcceptance(response: Response, accepted: OrderAccepted, { outcome, state }: OrderAcceptance): void {
  if (outcome === 'accepted') {
    const created: OrderCreated = { ...accepted, state };
    response.status(201).location(accepted.links.self).json(created);
    return;
  }
  const failure = state.failure;
  // After the first run's retention, the orders service is what remembers the body that placed the order.
  if (failure?.type === idempotencyKeyReusedType) throw keyReused(accepted.orderId);
  const detail = failure
    ? `Order ${accepted.orderId} was not accepted: ${failure.message} (${failure.type} at ${failure.step}). ` +
      (state.status === 'needs-attention'
        ? 'Undoing what was done needs an operator; the order is kept until then.'
        : 'Nothing of it remains: every step taken was compensated.')
    : `Order ${accepted.orderId} was not accepted`;
  // Cancelled by its owner before it was accepted: the order is fine, it is just gone.
  if (failure?.type === orderFailureTypes.cancelled) {
    throw new HttpProblem(409, 'Order cancelled', detail, undefined, { state });
  }
  throw new HttpProblem(422, 'Order rejected', detail, undefined, { state });
}

/** POST /orders: 201 once the saga accepted the order, 202 while it is under way or when asked not to wait. */
export function placeOrderHandler(placement: Placement): RouteHandler<OrderRequest> {
  return async ({ request, response, body }) => {
    requireJson(request);
    const idempotencyKey = idempotencyKeyOf(request);
    const order = body();
    // The body's customer is the caller's own (a customer's key may name no other), or one an operator acts for.
    await requireOwnerOrOperator(request, () => order.customerId);
    const { requestId, log } = requestContextOf(request);
    const orderId = await placement.orderIdOf(order.customerId, idempotencyKey, log);
    logOrderOfRequest(request, orderId);
    const accepted: OrderAccepted = {
      orderId,
      workflowId: orderWorkflowId(orderId),
      links: { self: orderPath(orderId) },
    };
    const toPlace = { orderId, order, requestId, log };
    if (prefersRespondAsync(request)) {
      response.setHeader('Preference-Applied', 'respond-async');
      const outcome = await placement.start(toPlace);
      if (outcome === 'repeated') response.setHeader(idempotentReplayedHeader, 'true');
      response.status(202).location(accepted.links.self).json(accepted);
      return;
    }
    const { acceptance, repeated } = await placement.placeAndWait(toPlace);
    if (repeated) response.setHeader(idempotentReplayedHeader, 'true');
    if (acceptance) {
      answerAcceptance(response, accepted, acceptance);
      return;
    }
    response.status(202).location(accepted.links.self).json(accepted);
  };
}

/** GET /orders/{orderId}: the saga's state. */
export function getOrderHandler(runs: OrderRuns): RouteHandler {
  return async ({ request, response }) => {
    const { orderId, handle } = runs.handleFor(request);
    await requireOwnerOrOperator(request, () => runs.customerOf(orderId, handle));
    try {
      response.json(await runs.state(handle));
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw orderNotFound(orderId);
      throw error;
    }
  };
}

/** POST /orders/{orderId}/cancel: 200 once cancelled, 202 while its compensations still run. */
export function cancelOrderHandler(runs: OrderRuns): RouteHandler<CancelRequest> {
  return async ({ request, response, body }) => {
    requireJsonIfBody(request);
    const { orderId, handle } = runs.handleFor(request);
    const { reason } = body();
    await requireOwnerOrOperator(request, () => runs.customerOf(orderId, handle));
    // Accepted (the validator let it through) first, then its outcome awaited for a while: the
    // cancellation lets the step in flight finish, then unwinds what was done.
    const outcome = await runs.update(orderId, handle, async () => {
      const update = await runs.withinDeadline(() =>
        handle.startUpdate(cancelOrder, { args: [{ reason }], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      );
      try {
        return await runs.withinDeadline(() => update.result(), runs.answerWaitMs);
      } catch (error) {
        if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'still-cancelling';
        throw error;
      }
    });
    const state =
      outcome === 'still-cancelling' ? await runs.withinDeadline(() => handle.query(getOrderState)) : outcome;
    const settled = finalStatuses.includes(state.status) || state.status === 'needs-attention';
    response
      .status(settled ? 200 : 202)
      .location(orderPath(orderId))
      .json(state);
  };
}

/** POST /orders/{orderId}/approve and /reject: an operator's decision on an order awaiting approval. */
export function decideApprovalHandler(runs: OrderRuns, approved: boolean): RouteHandler<ApprovalDecision> {
  return async ({ request, response, body }) => {
    requireOperator(request);
    requireJson(request);
    const { orderId, handle } = runs.handleFor(request);
    const { decidedBy, comment } = body();
    const state = await runs.update(orderId, handle, () =>
      runs.withinDeadline(() =>
        handle.executeUpdate(decideApproval, {
          args: [{ approved, decidedBy, ...(comment ? { comment } : {}) }],
          updateId: approvalUpdateId(approved),
        }),
      ),
    );
    response.status(202).location(orderPath(orderId)).json(state);
  };
}

/** POST /orders/{orderId}/compensation: an operator retries or resolves a compensation that waits for one. */
export function resolveCompensationHandler(runs: OrderRuns): RouteHandler<CompensationResolution> {
  return async ({ request, response, body }) => {
    requireOperator(request);
    requireJson(request);
    const { orderId, handle } = runs.handleFor(request);
    const resolution = body();
    const state = await runs.update(orderId, handle, () =>
      runs.withinDeadline(() => handle.executeUpdate(resolveCompensation, { args: [resolution] })),
    );
    response.status(202).location(orderPath(orderId)).json(state);
  };
}
