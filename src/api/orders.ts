import { createHash, randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import {
  ApplicationFailure,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { OrdersDb } from '../db';
import type { OrderRequest } from '../domain/order';
import { orderWorkflowId, orderWorkflowTaskQueue } from '../temporal/names';
import { legacyOrderIdFor, orderIdFor } from '../temporal/order-ids';
import { customerIdAttribute, requestIdAttribute } from '../temporal/search-attributes';
import {
  approvalUpdateId,
  cancelOrder,
  decideApproval,
  finalStatuses,
  getOrderAcceptance,
  getOrderState,
  idempotencyKeyReusedType,
  orderFailureTypes,
  orderMemoFields,
  orderWorkflowType,
  placeOrder,
  resolveCompensation,
  type OrderAcceptance,
  type OrderDeadlines,
  type OrderSagaInput,
  type OrderSagaState,
} from '../workflows/definitions';
import type { orderSaga } from '../workflows/order-saga';
import { requireOperator, requireOwnerOrOperator } from './auth';
import { HttpProblem, type FieldError } from './problem';
import { logOrderOfRequest, requestContextOf } from './request-id';
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
  type OrderCreated,
} from './schemas';

/**
 * The customer of the order the orders service recorded under an id, if it
 * recorded one. Lets a key placed before keys were scoped to their customer
 * be recognised after Temporal's retention deleted its run.
 */
export type RecordedOrderCustomer = (orderId: string) => Promise<string | undefined>;

/** RecordedOrderCustomer from the orders service's own table. */
export function recordedOrderCustomerIn(orders: Pick<OrdersDb, 'order'>): RecordedOrderCustomer {
  return async (orderId) =>
    (await orders.order.findUnique({ where: { id: orderId }, select: { customerId: true } }))?.customerId;
}

export interface OrdersRouterOptions {
  client: Client;
  approval: { thresholdCents: number; timeout: string };
  /** The steps' business deadlines given to each new order; without them the workflow's defaults apply. */
  deadlines?: OrderDeadlines;
  /** Without it (tests of other concerns), a key placed before scoping is recognised only while its run exists. */
  recordedOrderCustomer?: RecordedOrderCustomer;
  /**
   * How long POST /orders waits for the order's acceptance, and a cancel for
   * its compensations, before answering 202 with the order still under way.
   */
  answerWaitMs?: number;
}

/** Long enough for the first two steps or a cancellation's unwinding on a healthy system, short for an HTTP call. */
export const defaultAnswerWaitMs = 5_000;

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

/** RFC 7240: `Prefer: respond-async` asks for the 202 at once, without waiting for the acceptance. */
function prefersRespondAsync(request: Request): boolean {
  return (request.get('prefer') ?? '')
    .split(',')
    .some((preference) => preference.split(';')[0]!.trim().toLowerCase() === 'respond-async');
}

function failureType(error: unknown): string | undefined {
  return error instanceof ApplicationFailure ? (error.type ?? undefined) : undefined;
}

/** How long describe() may take once the wait for an answer has run out. */
const describeAfterWaitMs = 2_000;

/** How long one request waits for Temporal before answering 503. */
const temporalDeadlineMs = 5_000;

export function ordersRouter({
  client,
  approval,
  deadlines,
  recordedOrderCustomer,
  answerWaitMs = defaultAnswerWaitMs,
}: OrdersRouterOptions): Router {
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

  /**
   * An order's state: once its run has completed, the saga's result, read from the run's history; while it runs, the
   * saga's query. A query needs a worker of the build the run is pinned to (Worker Deployment Versioning) and makes
   * it replay the whole run, so a closed order's state never depends on a retired build's workers.
   */
  async function orderState(handle: WorkflowHandle<typeof orderSaga>): Promise<OrderSagaState> {
    const { status } = await withinDeadline(() => handle.describe());
    if (status.name === 'COMPLETED') return withinDeadline(() => handle.result());
    if (status.name === 'FAILED') {
      // A failed or cancelled order's run fails with its final state in the failure's details.
      const failure = await withinDeadline(() => handle.result()).then(
        () => undefined,
        (error: unknown) => (error instanceof WorkflowFailedError ? error.cause : undefined),
      );
      const settled: (string | null | undefined)[] = [orderFailureTypes.failed, orderFailureTypes.cancelled];
      if (failure instanceof ApplicationFailure && settled.includes(failure.type) && failure.details?.[0]) {
        return failure.details[0] as OrderSagaState;
      }
    }
    return withinDeadline(() => handle.query(getOrderState));
  }

  /**
   * The customer a run's order belongs to (undefined if there is no such run); runs started before the memo had it
   * carry the CustomerId search attribute.
   */
  async function ownerOfRun(handle: WorkflowHandle): Promise<{ customerId: string | undefined } | undefined> {
    try {
      const { memo, typedSearchAttributes } = await withinDeadline(() => handle.describe());
      const fromMemo = memo?.[orderMemoFields.customerId];
      return { customerId: typeof fromMemo === 'string' ? fromMemo : typedSearchAttributes.get(customerIdAttribute) };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** The customer an order belongs to. */
  async function customerOf(orderId: string, handle: WorkflowHandle): Promise<string | undefined> {
    const owner = await ownerOfRun(handle);
    if (!owner) throw new HttpProblem(404, 'Order not found', `No order ${orderId}`);
    return owner.customerId;
  }

  /**
   * The customer of the order the orders service recorded under this id, within the deadline. Unknown, the
   * placement is refused (503): placed under the scoped id, a repeat of an order placed before scoping would be a
   * second order.
   */
  async function recordedCustomerOf(orderId: string, log: Logger): Promise<string | undefined> {
    if (!recordedOrderCustomer) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${temporalDeadlineMs} ms`)), temporalDeadlineMs);
    });
    try {
      return await Promise.race([recordedOrderCustomer(orderId), timeout]);
    } catch (error) {
      log.warn({ err: error, orderId }, 'the orders database did not tell whether the key placed an order before');
      throw new HttpProblem(503, 'Service unavailable', 'The orders database did not answer; try again shortly');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The order a customer's key names. Before keys were scoped to their customer, the key alone named it: such an
   * order (its run while Temporal keeps it, the orders service's row after) stays the answer to its customer's
   * repeats. Anyone else's key names an order of their own, and is told nothing of that one. Both looks are reads by
   * id, made at once, so a placement waits for the slower of the two, at most the 5 s deadline.
   */
  async function orderIdOfPlacement(customerId: string, idempotencyKey: string, log: Logger): Promise<string> {
    const legacyOrderId = legacyOrderIdFor(idempotencyKey);
    const [runOwner, recordedCustomer] = await Promise.all([
      ownerOfRun(client.workflow.getHandle(orderWorkflowId(legacyOrderId))),
      recordedCustomerOf(legacyOrderId, log),
    ]);
    const placedBeforeScoping = runOwner?.customerId === customerId || recordedCustomer === customerId;
    return placedBeforeScoping ? legacyOrderId : orderIdFor(customerId, idempotencyKey);
  }

  /**
   * Maps the workflow's answer to an update: a validator's refusal becomes
   * 409, and so does an order that has finished (with its final state).
   */
  async function sendUpdate<T>(orderId: string, handle: WorkflowHandle, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
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
        if (!finished) throw new HttpProblem(404, 'Order not found', `No order ${orderId}`);
        const state = await withinDeadline(() => handle.query(getOrderState)).catch(() => undefined);
        throw new HttpProblem(
          409,
          'Conflict',
          `Order ${orderId} is finished (${state?.status ?? finished.toLowerCase()})`,
          undefined,
          state ? { state } : undefined,
        );
      }
      throw error;
    }
  }

  // Names the order only to its own customer: the key names another customer's order under another id.
  const keyReused = (orderId: string) =>
    new HttpProblem(
      422,
      'Idempotency key reused',
      `This Idempotency-Key was already used with another request body (order ${orderId}). Repeat a request ` +
        'with exactly the same body to get its answer; use a new key for a new order.',
    );

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
    // The body's customer is the caller's own (a customer's key may name no other), or one an operator acts for.
    const { requestId, log } = requestContextOf(request);
    const orderId = await orderIdOfPlacement(order.customerId, key.data, log);
    logOrderOfRequest(request, orderId);
    const workflowId = orderWorkflowId(orderId);
    const handle = client.workflow.getHandle<typeof orderSaga>(workflowId);
    const input: OrderSagaInput = {
      orderId,
      customerId: order.customerId,
      items: order.items,
      paymentToken: order.payment.token,
      shippingAddress: order.shippingAddress,
      approvalThresholdCents: approval.thresholdCents,
      approvalTimeout: approval.timeout,
      ...(deadlines && { deadlines }),
    };
    const itemCount = order.items.reduce((sum, item) => sum + item.quantity, 0);
    const fingerprint = orderRequestFingerprint(order);
    const accepted: OrderAccepted = { orderId, workflowId, links: { self: orderPath(orderId) } };
    const respondAsync = prefersRespondAsync(request);
    const startOptions = {
      workflowId,
      taskQueue: orderWorkflowTaskQueue,
      args: [input] as [OrderSagaInput],
      // A closed run keeps its id until retention deletes it: a repeat finds it instead of starting again.
      workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      memo: {
        [orderMemoFields.requestId]: requestId,
        [orderMemoFields.requestFingerprint]: fingerprint,
        [orderMemoFields.customerId]: order.customerId,
      },
      typedSearchAttributes: [{ key: requestIdAttribute, value: requestId }],
      staticSummary: `Order ${orderId}: ${itemCount} item(s) for customer ${order.customerId}`,
    };

    /**
     * Finds the run this key names and checks that it was started with this
     * body (refused otherwise). 'vanished': retention deleted it in between.
     */
    const findRun = async (
      deadlineMs = temporalDeadlineMs,
    ): Promise<{ memo: Record<string, unknown> } | 'vanished'> => {
      let memo: Record<string, unknown> | undefined;
      try {
        ({ memo } = await client.withDeadline(Date.now() + deadlineMs, () => handle.describe()));
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return 'vanished';
        throw error;
      }
      const stored = memo?.[orderMemoFields.requestFingerprint];
      // A run started before fingerprints were stored cannot be compared; it is answered as a repeat.
      if (typeof stored === 'string' && stored !== fingerprint) {
        log.warn({ orderId, workflowId }, 'idempotency key reused with another order');
        throw keyReused(orderId);
      }
      return { memo: memo ?? {} };
    };

    /**
     * Asynchronous mode: starts the run and answers 202 at once. Conflict
     * policy FAIL rather than USE_EXISTING because the SDK (1.24) drops the
     * server's `started` flag: the error is what tells a repeat from a first
     * request, so only repeats cost a describe().
     */
    const startOrFind = async (): Promise<'started' | 'repeated' | 'vanished'> => {
      try {
        await withinDeadline(() =>
          client.workflow.start<typeof orderSaga>(orderWorkflowType, {
            ...startOptions,
            workflowIdConflictPolicy: 'FAIL',
          }),
        );
        return 'started';
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      return (await findRun()) === 'vanished' ? 'vanished' : 'repeated';
    };

    /**
     * Early-return mode: starts the run together with its placeOrder update
     * (update-with-start), which completes once the saga has accepted or
     * rejected the order. A running order with this key takes the update too
     * (USE_EXISTING: concurrent duplicates share one run), and the workflow
     * tells whether this request started it. A closed one refuses the start;
     * it is answered from its recorded acceptance.
     */
    const placeAndWait = async (): Promise<
      | { outcome: 'answered'; acceptance: OrderAcceptance; repeated: boolean }
      | { outcome: 'pending'; repeated: boolean }
      | { outcome: 'vanished' }
    > => {
      const placementUpdateId = randomUUID();
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof orderSaga>(orderWorkflowType, {
        ...startOptions,
        memo: { ...startOptions.memo, [orderMemoFields.placementUpdateId]: placementUpdateId },
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      try {
        const { repeated, ...acceptance } = await client.withDeadline(Date.now() + answerWaitMs, () =>
          client.workflow.executeUpdateWithStart(placeOrder, {
            args: [{ requestFingerprint: fingerprint }],
            startWorkflowOperation,
            updateId: placementUpdateId,
          }),
        );
        return { outcome: 'answered', acceptance, repeated };
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError && failureType(error.cause) === idempotencyKeyReusedType) {
          log.warn({ orderId, workflowId }, 'idempotency key reused with another order');
          throw keyReused(orderId);
        }
        if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
          // Not decided in time (a step is retrying, no worker is up yet), or Temporal is down: describe() tells,
          // quickly, since the caller has waited already.
          const run = await findRun(describeAfterWaitMs);
          if (run === 'vanished') {
            throw new HttpProblem(503, 'Service unavailable', 'Temporal did not take the order in time; try again');
          }
          return { outcome: 'pending', repeated: run.memo[orderMemoFields.placementUpdateId] !== placementUpdateId };
        }
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      if ((await findRun()) === 'vanished') return { outcome: 'vanished' };
      const acceptance = await withinDeadline(() => handle.query(getOrderAcceptance));
      return acceptance ? { outcome: 'answered', acceptance, repeated: true } : { outcome: 'pending', repeated: true };
    };

    if (respondAsync) {
      response.setHeader('Preference-Applied', 'respond-async');
      let outcome = await startOrFind();
      // The run's retention ran out between the refused start and describe(): the key is free again.
      if (outcome === 'vanished') outcome = await startOrFind();
      if (outcome === 'vanished') throw new Error(`the run ${workflowId} refused a start and then could not be found`);
      if (outcome === 'repeated') response.setHeader(idempotentReplayedHeader, 'true');
      log.info({ orderId, workflowId, outcome }, outcome === 'started' ? 'order started' : 'order request repeated');
      response.status(202).location(orderPath(orderId)).json(accepted);
      return;
    }

    let placement = await placeAndWait();
    // As above: retention deleted the closed run between the refused start and describe().
    if (placement.outcome === 'vanished') placement = await placeAndWait();
    if (placement.outcome === 'vanished') {
      throw new Error(`the run ${workflowId} refused a start and then could not be found`);
    }
    if (placement.outcome === 'pending') {
      if (placement.repeated) response.setHeader(idempotentReplayedHeader, 'true');
      log.info({ orderId, workflowId, repeated: placement.repeated }, 'order placed, acceptance still under way');
      response.status(202).location(orderPath(orderId)).json(accepted);
      return;
    }
    const { acceptance, repeated } = placement;
    if (repeated) response.setHeader(idempotentReplayedHeader, 'true');
    log.info(
      { orderId, workflowId, outcome: acceptance.outcome, repeated },
      repeated ? 'order request repeated' : `order ${acceptance.outcome}`,
    );
    answerAcceptance(response, accepted, acceptance);
  });

  router.get('/orders/:orderId', async (request, response) => {
    const { orderId, handle } = handleFor(request);
    await requireOwnerOrOperator(request, () => customerOf(orderId, handle));
    try {
      response.json(await orderState(handle));
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
    // Accepted (the validator let it through) first, then its outcome awaited for a while: the
    // cancellation lets the step in flight finish, then unwinds what was done.
    const outcome = await sendUpdate(orderId, handle, async () => {
      const update = await withinDeadline(() =>
        handle.startUpdate(cancelOrder, { args: [{ reason }], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      );
      try {
        return await client.withDeadline(Date.now() + answerWaitMs, () => update.result());
      } catch (error) {
        if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'still-cancelling';
        throw error;
      }
    });
    const state = outcome === 'still-cancelling' ? await withinDeadline(() => handle.query(getOrderState)) : outcome;
    const settled = finalStatuses.includes(state.status) || state.status === 'needs-attention';
    response
      .status(settled ? 200 : 202)
      .location(orderPath(orderId))
      .json(state);
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
        withinDeadline(() =>
          handle.executeUpdate(decideApproval, {
            args: [{ approved, decidedBy, ...(comment ? { comment } : {}) }],
            updateId: approvalUpdateId(approved),
          }),
        ),
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
      withinDeadline(() => handle.executeUpdate(resolveCompensation, { args: [resolution] })),
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
