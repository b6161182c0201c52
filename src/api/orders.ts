import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { z } from 'zod';
import type { OrderRequest } from '../domain/order';
import { orderWorkflowId, orderWorkflowTaskQueue } from '../temporal/names';
import { customerIdAttribute } from '../temporal/search-attributes';
import {
  cancelOrder,
  decideApproval,
  getOrderState,
  orderWorkflowType,
  resolveCompensation,
  type OrderSagaInput,
  type OrderSagaState,
} from '../workflows/definitions';
import type { orderSaga } from '../workflows/order-saga';
import { requireOperator, requireOwnerOrOperator } from './auth';
import { HttpProblem, type FieldError } from './problem';
import { requestContextOf } from './request-id';
import {
  cancelSchema,
  decisionSchema,
  idempotencyKeyHeader,
  idempotencyKeySchema,
  idempotentReplayedHeader,
  orderIdPattern,
  orderRequestSchema,
  resolutionSchema,
  type OrderAccepted,
} from './schemas';

export interface OrdersRouterOptions {
  client: Client;
  approval: { thresholdCents: number; timeout: string };
}

/**
 * The order id is derived from the idempotency key, and the workflow id from
 * the order id, so a repeated request cannot start a second order: Temporal
 * itself refuses a second workflow with the same id.
 */
export function orderIdForIdempotencyKey(idempotencyKey: string): string {
  return `ord_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24)}`;
}

/** Memo fields of an order's run, written by the API when it starts the run (shown in the Web UI). */
export const orderMemoFields = {
  /** The X-Request-Id of the request that placed the order. */
  requestId: 'requestId',
  /** The fingerprint of that request's body: a repeat of its Idempotency-Key must send the same order. */
  requestFingerprint: 'requestFingerprint',
  /** Whose order it is, readable with one describe() from the moment the run starts (who may read or cancel it). */
  customerId: 'customerId',
} as const;

/** JSON with object keys sorted at every level, so the same order always serialises the same way. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Fingerprints the order as parsed (trimmed, unknown fields refused), so key
 * order, whitespace and number spelling (1 or 1.0) do not count as another
 * order; the order of the items does.
 */
export function orderRequestFingerprint(order: OrderRequest): string {
  return `sha256:${createHash('sha256').update(canonicalJson(order)).digest('hex')}`;
}

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
}

function parseBody<T>(schema: z.ZodType<T>, request: Request): T {
  const parsed = schema.safeParse(request.body ?? {});
  if (!parsed.success) {
    throw new HttpProblem(400, 'Invalid request', 'The request body has invalid fields', fieldErrors(parsed.error));
  }
  return parsed.data;
}

function requireJson(request: Request): void {
  if (!request.is('application/json')) {
    throw new HttpProblem(415, 'Unsupported media type', 'Send the body as application/json');
  }
}

function orderPath(orderId: string): string {
  return `/orders/${encodeURIComponent(orderId)}`;
}

/** How long one request waits for Temporal before answering 503. */
const temporalDeadlineMs = 5_000;

export function ordersRouter({ client, approval }: OrdersRouterOptions): Router {
  const router = Router();

  // The client retries an unreachable server for a long time; an HTTP caller should not wait that long.
  const withinDeadline = <T>(call: () => Promise<T>): Promise<T> =>
    client.withDeadline(Date.now() + temporalDeadlineMs, call);

  function handleFor(request: Request): { orderId: string; handle: WorkflowHandle<typeof orderSaga> } {
    const orderId = String(request.params.orderId);
    if (!orderIdPattern.test(orderId)) {
      throw new HttpProblem(404, 'Order not found', `No order ${orderId}`);
    }
    return { orderId, handle: client.workflow.getHandle<typeof orderSaga>(orderWorkflowId(orderId)) };
  }

  /** The customer an order belongs to; runs started before the memo had it carry the CustomerId search attribute. */
  async function customerOf(orderId: string, handle: WorkflowHandle): Promise<string | undefined> {
    try {
      const { memo, typedSearchAttributes } = await withinDeadline(() => handle.describe());
      const fromMemo = memo?.[orderMemoFields.customerId];
      return typeof fromMemo === 'string' ? fromMemo : typedSearchAttributes.get(customerIdAttribute);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new HttpProblem(404, 'Order not found', `No order ${orderId}`);
      throw error;
    }
  }

  /** Maps the workflow's answer to an update; a validator's refusal becomes 409. */
  async function sendUpdate(
    orderId: string,
    handle: WorkflowHandle,
    send: () => Promise<OrderSagaState>,
  ): Promise<OrderSagaState> {
    try {
      return await withinDeadline(send);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        throw new HttpProblem(409, 'Conflict', error.cause?.message ?? error.message);
      }
      if (error instanceof WorkflowNotFoundError) {
        // A finished run refuses updates with "not found"; tell that apart from an unknown order.
        const finished = await withinDeadline(() => handle.describe()).then(
          (description) => description.status.name,
          () => undefined,
        );
        if (finished) throw new HttpProblem(409, 'Conflict', `Order ${orderId} is finished (${finished})`);
        throw new HttpProblem(404, 'Order not found', `No order ${orderId}`);
      }
      throw error;
    }
  }

  router.post('/orders', async (request, response) => {
    requireJson(request);
    const key = idempotencyKeySchema.safeParse(request.get(idempotencyKeyHeader));
    if (!key.success) {
      throw new HttpProblem(400, 'Invalid request', 'The Idempotency-Key header is required', [
        { field: idempotencyKeyHeader, message: key.error.issues[0]?.message ?? 'required' },
      ]);
    }
    const order = parseBody(orderRequestSchema, request);
    await requireOwnerOrOperator(request, () => order.customerId);
    const orderId = orderIdForIdempotencyKey(key.data);
    const workflowId = orderWorkflowId(orderId);
    const input: OrderSagaInput = {
      orderId,
      customerId: order.customerId,
      items: order.items,
      paymentToken: order.payment.token,
      shippingAddress: order.shippingAddress,
      approvalThresholdCents: approval.thresholdCents,
      approvalTimeout: approval.timeout,
    };
    const itemCount = order.items.reduce((sum, item) => sum + item.quantity, 0);
    const fingerprint = orderRequestFingerprint(order);
    const { requestId, log } = requestContextOf(request);

    /**
     * Starts the order's run, or finds the run an earlier request with the
     * same key started: running (conflict policy FAIL) or closed and still
     * retained (reuse policy REJECT_DUPLICATE). FAIL rather than USE_EXISTING
     * because the SDK (1.24) drops the server's `started` flag: the error is
     * what tells a repeat from a first request, so only repeats cost a
     * describe(). 'vanished': the run was deleted in between.
     */
    const startOrFind = async (): Promise<'started' | 'repeated' | 'vanished'> => {
      try {
        await withinDeadline(() =>
          client.workflow.start<typeof orderSaga>(orderWorkflowType, {
            workflowId,
            taskQueue: orderWorkflowTaskQueue,
            args: [input],
            workflowIdConflictPolicy: 'FAIL',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            memo: {
              [orderMemoFields.requestId]: requestId,
              [orderMemoFields.requestFingerprint]: fingerprint,
              [orderMemoFields.customerId]: order.customerId,
            },
            staticSummary: `Order ${orderId}: ${itemCount} item(s) for customer ${order.customerId}`,
          }),
        );
        return 'started';
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      let memo: Record<string, unknown> | undefined;
      try {
        ({ memo } = await withinDeadline(() => client.workflow.getHandle(workflowId).describe()));
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return 'vanished';
        throw error;
      }
      const stored = memo?.[orderMemoFields.requestFingerprint];
      // A run started before fingerprints were stored cannot be compared; it is answered as a repeat.
      if (typeof stored === 'string' && stored !== fingerprint) {
        log.warn({ orderId, workflowId }, 'idempotency key reused with another order');
        throw new HttpProblem(
          422,
          'Idempotency key reused',
          `This Idempotency-Key was already used with another request body (order ${orderId}). Repeat a request ` +
            'with exactly the same body to get its answer; use a new key for a new order.',
        );
      }
      return 'repeated';
    };

    let outcome = await startOrFind();
    // The run's retention ran out between the refused start and describe(): the key is free again.
    if (outcome === 'vanished') outcome = await startOrFind();
    if (outcome === 'vanished') throw new Error(`the run ${workflowId} refused a start and then could not be found`);
    if (outcome === 'repeated') response.setHeader(idempotentReplayedHeader, 'true');
    log.info({ orderId, workflowId, outcome }, outcome === 'started' ? 'order started' : 'order request repeated');
    const accepted: OrderAccepted = { orderId, workflowId, links: { self: orderPath(orderId) } };
    response.status(202).location(orderPath(orderId)).json(accepted);
  });

  router.get('/orders/:orderId', async (request, response) => {
    const { orderId, handle } = handleFor(request);
    await requireOwnerOrOperator(request, () => customerOf(orderId, handle));
    try {
      response.json(await withinDeadline(() => handle.query(getOrderState)));
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        throw new HttpProblem(404, 'Order not found', `No order ${orderId}`);
      }
      throw error;
    }
  });

  router.post('/orders/:orderId/cancel', async (request, response) => {
    requireJsonIfBody(request);
    const { orderId, handle } = handleFor(request);
    const { reason } = parseBody(cancelSchema, request);
    await requireOwnerOrOperator(request, () => customerOf(orderId, handle));
    const state = await sendUpdate(orderId, handle, () => handle.executeUpdate(cancelOrder, { args: [{ reason }] }));
    response.status(202).location(orderPath(orderId)).json(state);
  });

  for (const [path, approved] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    router.post(`/orders/:orderId/${path}`, async (request, response) => {
      requireOperator(request);
      requireJson(request);
      const { orderId, handle } = handleFor(request);
      const { decidedBy, comment } = parseBody(decisionSchema, request);
      const state = await sendUpdate(orderId, handle, () =>
        handle.executeUpdate(decideApproval, { args: [{ approved, decidedBy, ...(comment ? { comment } : {}) }] }),
      );
      response.status(202).location(orderPath(orderId)).json(state);
    });
  }

  router.post('/orders/:orderId/compensation', async (request, response) => {
    requireOperator(request);
    requireJson(request);
    const { orderId, handle } = handleFor(request);
    const resolution = parseBody(resolutionSchema, request);
    const state = await sendUpdate(orderId, handle, () =>
      handle.executeUpdate(resolveCompensation, { args: [resolution] }),
    );
    response.status(202).location(orderPath(orderId)).json(state);
  });

  return router;
}

/** Cancel takes an optional body; if one is sent, it must be JSON. */
function requireJsonIfBody(request: Request): void {
  const length = Number(request.get('content-length') ?? 0);
  if (length > 0 || request.get('transfer-encoding')) requireJson(request);
}
