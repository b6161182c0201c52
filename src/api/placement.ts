import { createHash, randomUUID } from 'node:crypto';
import {
  ApplicationFailure,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Logger } from 'pino';
import type { OrdersDb } from '../db';
import type { OrderRequest } from '../domain/order';
import { orderWorkflowId, orderWorkflowTaskQueue } from '../temporal/names';
import { legacyOrderIdFor, orderIdFor } from '../temporal/order-ids';
import { requestIdAttribute } from '../temporal/search-attributes';
import {
  getOrderAcceptance,
  idempotencyKeyReusedType,
  orderMemoFields,
  orderWorkflowType,
  placeOrder,
  type OrderAcceptance,
  type OrderDeadlines,
  type OrderSagaInput,
} from '../workflows/definitions';
import type { orderSaga } from '../workflows/order-saga';
import { temporalDeadlineMs, type OrderHandle, type OrderRuns } from './order-runs';
import { HttpProblem } from './problem';

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

/** 422 for a key first used with another body; names the order only to its own customer (another's has another id). */
export function keyReused(orderId: string): HttpProblem {
  return new HttpProblem(
    422,
    'Idempotency key reused',
    `This Idempotency-Key was already used with another request body (order ${orderId}). Repeat a request ` +
      'with exactly the same body to get its answer; use a new key for a new order.',
  );
}

/** How long describe() may take once the wait for an answer has run out. */
const describeAfterWaitMs = 2_000;

function failureType(error: unknown): string | undefined {
  return error instanceof ApplicationFailure ? (error.type ?? undefined) : undefined;
}

export interface PlacementOptions {
  approval: { thresholdCents: number; timeout: string };
  /** The steps' business deadlines given to each new order; without them the workflow's defaults apply. */
  deadlines?: OrderDeadlines;
  /** Without it (tests of other concerns), a key placed before scoping is recognised only while its run exists. */
  recordedOrderCustomer?: RecordedOrderCustomer;
}

/** One order to place: its id (from orderIdOf), the body as parsed, and the request it came with. */
export interface OrderToPlace {
  orderId: string;
  order: OrderRequest;
  requestId: string;
  log: Logger;
}

/** What a placement that waited learned: the saga's acceptance, or none yet (202), and whether it repeated one. */
export interface PlacementAnswer {
  acceptance?: OrderAcceptance;
  repeated: boolean;
}

/**
 * Placing orders: finds the order an idempotency key names, starts its saga or finds the run a repeat names, and
 * waits for the saga's acceptance.
 */
export class Placement {
  constructor(
    private readonly runs: OrderRuns,
    private readonly options: PlacementOptions,
  ) {}

  /**
   * The order a customer's key names. Before keys were scoped to their customer, the key alone named it: such an
   * order (its run while Temporal keeps it, the orders service's row after) stays the answer to its customer's
   * repeats. Anyone else's key names an order of their own, and is told nothing of that one. Both looks are reads by
   * id, made at once, so a placement waits for the slower of the two, at most the 5 s deadline.
   */
  async orderIdOf(customerId: string, idempotencyKey: string, log: Logger): Promise<string> {
    const legacyOrderId = legacyOrderIdFor(idempotencyKey);
    const [runOwner, recordedCustomer] = await Promise.all([
      this.runs.ownerOfRun(this.runs.client.workflow.getHandle(orderWorkflowId(legacyOrderId))),
      this.recordedCustomerOf(legacyOrderId, log),
    ]);
    const placedBeforeScoping = runOwner?.customerId === customerId || recordedCustomer === customerId;
    return placedBeforeScoping ? legacyOrderId : orderIdFor(customerId, idempotencyKey);
  }

  /**
   * The customer of the order the orders service recorded under this id, within the deadline. Unknown, the
   * placement is refused (503): placed under the scoped id, a repeat of an order placed before scoping would be a
   * second order.
   */
  private async recordedCustomerOf(orderId: string, log: Logger): Promise<string | undefined> {
    const { recordedOrderCustomer } = this.options;
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

  /** Asynchronous mode (`Prefer: respond-async`): starts the order's run, or finds the one a repeat names. */
  async start(toPlace: OrderToPlace): Promise<'started' | 'repeated'> {
    const run = new PlacementRun(this.runs, this.options, toPlace);
    let outcome = await run.startOrFind();
    // The run's retention ran out between the refused start and describe(): the key is free again.
    if (outcome === 'vanished') outcome = await run.startOrFind();
    if (outcome === 'vanished') throw run.vanishedTwice();
    const { orderId, log } = toPlace;
    log.info(
      { orderId, workflowId: run.workflowId, outcome },
      outcome === 'started' ? 'order started' : 'order request repeated',
    );
    return outcome;
  }

  /** Early-return mode: places the order and waits, for a while, for the saga to accept or reject it. */
  async placeAndWait(toPlace: OrderToPlace): Promise<PlacementAnswer> {
    const run = new PlacementRun(this.runs, this.options, toPlace);
    let placement = await run.placeAndWait();
    // As above: retention deleted the closed run between the refused start and describe().
    if (placement === 'vanished') placement = await run.placeAndWait();
    if (placement === 'vanished') throw run.vanishedTwice();
    const { acceptance, repeated } = placement;
    const { orderId, log } = toPlace;
    const { workflowId } = run;
    if (!acceptance) {
      log.info({ orderId, workflowId, repeated }, 'order placed, acceptance still under way');
    } else {
      const message = repeated ? 'order request repeated' : `order ${acceptance.outcome}`;
      log.info({ orderId, workflowId, outcome: acceptance.outcome, repeated }, message);
    }
    return placement;
  }
}

/** One request's attempt at placing its order: the run its key names, started or found. */
class PlacementRun {
  readonly workflowId: string;
  private readonly handle: OrderHandle;
  private readonly fingerprint: string;

  constructor(
    private readonly runs: OrderRuns,
    private readonly options: PlacementOptions,
    private readonly toPlace: OrderToPlace,
  ) {
    this.workflowId = orderWorkflowId(toPlace.orderId);
    this.handle = runs.client.workflow.getHandle<typeof orderSaga>(this.workflowId);
    this.fingerprint = orderRequestFingerprint(toPlace.order);
  }

  private startOptions(placementUpdateId?: string) {
    const { orderId, order, requestId } = this.toPlace;
    const { approval, deadlines } = this.options;
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
    return {
      workflowId: this.workflowId,
      taskQueue: orderWorkflowTaskQueue,
      args: [input] as [OrderSagaInput],
      // A closed run keeps its id until retention deletes it: a repeat finds it instead of starting again.
      workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      memo: {
        [orderMemoFields.requestId]: requestId,
        [orderMemoFields.requestFingerprint]: this.fingerprint,
        [orderMemoFields.customerId]: order.customerId,
        ...(placementUpdateId && { [orderMemoFields.placementUpdateId]: placementUpdateId }),
      },
      typedSearchAttributes: [{ key: requestIdAttribute, value: requestId }],
      staticSummary: `Order ${orderId}: ${itemCount} item(s) for customer ${order.customerId}`,
    } satisfies WorkflowStartOptions<typeof orderSaga>;
  }

  private keyReused(): HttpProblem {
    const { orderId, log } = this.toPlace;
    log.warn({ orderId, workflowId: this.workflowId }, 'idempotency key reused with another order');
    return keyReused(orderId);
  }

  vanishedTwice(): Error {
    return new Error(`the run ${this.workflowId} refused a start and then could not be found`);
  }

  /**
   * Finds the run this key names and checks that it was started with this
   * body (refused otherwise). 'vanished': retention deleted it in between.
   */
  private async findRun(deadlineMs = temporalDeadlineMs): Promise<{ memo: Record<string, unknown> } | 'vanished'> {
    let memo: Record<string, unknown> | undefined;
    try {
      ({ memo } = await this.runs.withinDeadline(() => this.handle.describe(), deadlineMs));
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'vanished';
      throw error;
    }
    const stored = memo?.[orderMemoFields.requestFingerprint];
    // A run started before fingerprints were stored cannot be compared; it is answered as a repeat.
    if (typeof stored === 'string' && stored !== this.fingerprint) throw this.keyReused();
    return { memo: memo ?? {} };
  }

  /**
   * Starts the run. Conflict policy FAIL rather than USE_EXISTING because the
   * SDK (1.24) drops the server's `started` flag: the error is what tells a
   * repeat from a first request, so only repeats cost a describe().
   */
  async startOrFind(): Promise<'started' | 'repeated' | 'vanished'> {
    try {
      await this.runs.withinDeadline(() =>
        this.runs.client.workflow.start<typeof orderSaga>(orderWorkflowType, {
          ...this.startOptions(),
          workflowIdConflictPolicy: 'FAIL',
        }),
      );
      return 'started';
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return (await this.findRun()) === 'vanished' ? 'vanished' : 'repeated';
  }

  /**
   * Starts the run together with its placeOrder update (update-with-start),
   * which completes once the saga has accepted or rejected the order. A
   * running order with this key takes the update too (USE_EXISTING:
   * concurrent duplicates share one run), and the workflow tells whether this
   * request started it. A closed one refuses the start; it is answered from
   * its recorded acceptance.
   */
  async placeAndWait(): Promise<PlacementAnswer | 'vanished'> {
    const placementUpdateId = randomUUID();
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof orderSaga>(orderWorkflowType, {
      ...this.startOptions(placementUpdateId),
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    try {
      const { repeated, ...acceptance } = await this.runs.withinDeadline(
        () =>
          this.runs.client.workflow.executeUpdateWithStart(placeOrder, {
            args: [{ requestFingerprint: this.fingerprint }],
            startWorkflowOperation,
            updateId: placementUpdateId,
          }),
        this.runs.answerWaitMs,
      );
      return { acceptance, repeated };
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && failureType(error.cause) === idempotencyKeyReusedType) {
        throw this.keyReused();
      }
      if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return this.stillUnderWay(placementUpdateId);
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    if ((await this.findRun()) === 'vanished') return 'vanished';
    const acceptance = await this.runs.withinDeadline(() => this.handle.query(getOrderAcceptance));
    return acceptance ? { acceptance, repeated: true } : { repeated: true };
  }

  /**
   * Not decided in time (a step is retrying, no worker is up yet), or Temporal is down: describe() tells, quickly,
   * since the caller has waited already.
   */
  private async stillUnderWay(placementUpdateId: string): Promise<PlacementAnswer> {
    const run = await this.findRun(describeAfterWaitMs);
    if (run === 'vanished') {
      throw new HttpProblem(503, 'Service unavailable', 'Temporal did not take the order in time; try again');
    }
    return { repeated: run.memo[orderMemoFields.placementUpdateId] !== placementUpdateId };
  }
}
