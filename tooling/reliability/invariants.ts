/**
 * The saga's promises, checked against what the four services' databases
 * hold (and, given a Temporal client, against the order workflows):
 *
 *   const report = await checkInvariants({ db, client });
 *   if (!report.ok) console.log(report.violations);
 *
 * - every order is final (CONFIRMED, CANCELLED) or PENDING with its workflow running;
 * - a confirmed order holds exactly one CHARGED payment of its total, one CREATED shipment and one reservation that
 *   holds stock; a cancelled one holds none of them (a charge whose refund an operator resolved by hand is listed,
 *   not a violation);
 * - no reservation, payment or shipment belongs to an order the orders service does not know;
 * - stock is conserved per SKU (initial = available + reserved + committed, available >= 0);
 * - money is conserved (charged = confirmed totals + refunds resolved by hand, outside orders still running);
 * - given the payment gateway, its own store agrees: no order of a final state has more than one succeeded charge,
 *   and what the gateway kept (charged − refunded) is the order's total if confirmed, else zero (or the charge whose
 *   refund an operator resolved by hand).
 *
 * It reads each table once (a few queries per service, whatever the number of orders) and asks Temporal only about
 * PENDING orders (one list of running workflows) and about cancelled orders still charged (one query each).
 *
 * The services' databases cannot be read as one snapshot. The checker reads inventory, payments and shipping first
 * and orders last: an order row is written before any other service's row of that order, so every row read is
 * matched by its order (no false orphans), and a step done after the reads cannot look missing for an order seen
 * CONFIRMED. Rows of PENDING orders are in flux and are only counted. The one remaining race, an order compensated
 * and cancelled between the reads, can show a false "cancelled order still holds ..."; run the checker again (or
 * on a quiet system) to confirm such a report.
 */
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { catalogue, type ServiceDatabases } from '../../src/db';
import { formatCents } from '../../src/domain/money';
import type { Charge } from '../../src/partners/contract';
import { orderWorkflowId } from '../../src/temporal/names';
import { getOrderState, orderWorkflowType, type OrderSagaState } from '../../src/workflows/definitions';

/** The row statuses the services write (src/activities), as the checker reads them. */
export const orderRowStatuses = { pending: 'PENDING', confirmed: 'CONFIRMED', cancelled: 'CANCELLED' } as const;
/** COMMITTED: stock that left the warehouse for a confirmed order; it stays out of `available` like RESERVED. */
export const reservationRowStatuses = { reserved: 'RESERVED', committed: 'COMMITTED', released: 'RELEASED' } as const;
/** PENDING: the charge was claimed and its gateway answer not recorded yet (an attempt in flight or failed). */
export const paymentRowStatuses = {
  pending: 'PENDING',
  charged: 'CHARGED',
  refunded: 'REFUNDED',
  declined: 'DECLINED',
} as const;
export const shipmentRowStatuses = { created: 'CREATED', cancelled: 'CANCELLED' } as const;

const holdsStock = (status: string) =>
  status === reservationRowStatuses.reserved || status === reservationRowStatuses.committed;

export const invariants = {
  /** Every order is final, or PENDING with its workflow running. */
  settled: 'order-settled',
  confirmed: 'confirmed-order',
  cancelled: 'cancelled-order',
  orphan: 'no-orphan-rows',
  stock: 'stock-conserved',
  money: 'money-conserved',
  /** The payment gateway's own store agrees: at most one charge per order, and its net is what the order owes. */
  gateway: 'gateway-agrees',
  /** A row status the services never write. */
  knownStatus: 'known-status',
} as const;
export type InvariantName = (typeof invariants)[keyof typeof invariants];

export interface Violation {
  invariant: InvariantName;
  orderId?: string;
  sku?: string;
  message: string;
  /** What to do or check next, when the checker knows. */
  hint?: string;
}

/** A cancelled order whose payment stays CHARGED because an operator resolved its refund by hand. */
export interface ManualRefund {
  orderId: string;
  paymentId: string;
  amountCents: number;
  note: string | null;
}

export interface StockFigure {
  sku: string;
  /** Null when the SKU is not in the catalogue (or `initialStock`). */
  initial: number | null;
  /** Null when the inventory has no product row for the SKU. */
  available: number | null;
  reserved: number;
  committed: number;
  /** initial − (available + reserved + committed): 0 when stock is conserved. */
  unaccounted: number | null;
}

export interface MoneyFigures {
  /** Every CHARGED payment (charged and not refunded). */
  chargedCents: number;
  /** The part of it charged for orders still PENDING (their saga has not finished). */
  inFlightCents: number;
  confirmedCents: number;
  resolvedManuallyCents: number;
  refundedCents: number;
  /** (charged − in flight) − (confirmed + resolved by hand): 0 when money is conserved. */
  unaccountedCents: number;
}

export interface GatewayFigures {
  /** Final orders whose charges were read from the gateway. */
  ordersChecked: number;
  succeededCharges: number;
  declinedCharges: number;
  /** Orders with more than one succeeded charge: must be 0. */
  ordersChargedTwice: number;
  /** What the gateway kept for final orders (charged − refunded). */
  keptCents: number;
}

export interface InvariantFigures {
  /** Rows by status, per service. */
  orders: Record<string, number>;
  reservations: Record<string, number>;
  payments: Record<string, number>;
  shipments: Record<string, number>;
  /** PENDING orders: with a running workflow, not verified (no client), or without one (a violation). */
  pendingOrders: { running: number; unverified: number; notRunning: number };
  stock: StockFigure[];
  money: MoneyFigures;
  /** Present when the gateway was consulted. */
  gateway?: GatewayFigures;
}

export interface InvariantReport {
  ok: boolean;
  /** Whether workflows were consulted (a Temporal client was given). */
  temporalChecked: boolean;
  figures: InvariantFigures;
  violations: Violation[];
  resolvedManually: ManualRefund[];
  /** PENDING orders taken as running without asking Temporal (no client). */
  unverifiedPendingOrders: string[];
}

export interface CheckInvariantsOptions {
  db: ServiceDatabases;
  /** Consults the order workflows: PENDING orders must run, a kept charge must have been resolved by hand. */
  client?: Client;
  /** Stock per SKU before any order; defaults to the catalogue's seed. */
  initialStock?: Record<string, number>;
  /** The payment gateway's record of charges, to check against (e.g. a GatewayClient). */
  gateway?: { chargesOfOrder(orderId: string): Promise<Charge[]> };
}

/** How long one workflow query may take before the checker reads the run's final state instead. */
const queryDeadlineMs = 5_000;
/** Workflow calls in flight at once. */
const temporalConcurrency = 8;

interface OrderRow {
  id: string;
  status: string;
  totalCents: number | null;
  paymentId: string | null;
  shipmentId: string | null;
}
interface ReservationRow {
  id: string;
  orderId: string;
  status: string;
}
interface PaymentRow {
  id: string;
  orderId: string;
  status: string;
  amountCents: number;
}
interface ShipmentRow {
  id: string;
  orderId: string;
  status: string;
}

interface OrderRows {
  reservations: ReservationRow[];
  payments: PaymentRow[];
  shipments: ShipmentRow[];
}

export async function checkInvariants({
  db,
  client,
  initialStock,
  gateway,
}: CheckInvariantsOptions): Promise<InvariantReport> {
  // Inventory in one transaction: stock and reservations change together, so they must be read together.
  const [products, reservations, lines] = await db.inventory.$transaction([
    db.inventory.product.findMany({ select: { sku: true, available: true } }),
    db.inventory.reservation.findMany({ select: { id: true, orderId: true, status: true } }),
    db.inventory.reservationLine.findMany({ select: { reservationId: true, sku: true, quantity: true } }),
  ]);
  const [payments, shipments] = await Promise.all([
    db.payments.payment.findMany({ select: { id: true, orderId: true, status: true, amountCents: true } }),
    db.shipping.shipment.findMany({ select: { id: true, orderId: true, status: true } }),
  ]);
  // Last: see the module comment.
  const orders: OrderRow[] = await db.orders.order.findMany({
    select: { id: true, status: true, totalCents: true, paymentId: true, shipmentId: true },
  });

  const violations: Violation[] = [];
  const rowsByOrder = new Map<string, OrderRows>(
    orders.map((order) => [order.id, { reservations: [], payments: [], shipments: [] }]),
  );
  const attach = <R extends { id: string; orderId: string; status: string }>(
    rows: R[],
    kind: 'reservation' | 'payment' | 'shipment',
    pick: (of: OrderRows) => R[],
  ) => {
    for (const row of rows) {
      const of = rowsByOrder.get(row.orderId);
      if (of) {
        pick(of).push(row);
      } else {
        // create-order runs first and a refused one (blocked customer) ends the saga, so no other service ever
        // acts for an order without a row: such a row was written outside the saga, or its order row was lost.
        violations.push({
          invariant: invariants.orphan,
          orderId: row.orderId,
          message: `${kind} ${row.id} (${row.status}) belongs to order ${row.orderId}, unknown to the orders service`,
        });
      }
    }
  };
  attach(reservations, 'reservation', (of) => of.reservations);
  attach(payments, 'payment', (of) => of.payments);
  attach(shipments, 'shipment', (of) => of.shipments);

  checkKnownStatuses(violations, { orders, reservations, payments, shipments });

  const pending: string[] = [];
  const keptCharges: { orderId: string; payments: PaymentRow[] }[] = [];
  let confirmedCents = 0;
  for (const order of orders) {
    const rows = rowsByOrder.get(order.id)!;
    switch (order.status) {
      case orderRowStatuses.pending:
        pending.push(order.id);
        break;
      case orderRowStatuses.confirmed:
        confirmedCents += order.totalCents ?? 0;
        checkConfirmed(violations, order, rows);
        break;
      case orderRowStatuses.cancelled: {
        const charged = checkCancelled(violations, order, rows);
        if (charged.length > 0) keptCharges.push({ orderId: order.id, payments: charged });
        break;
      }
      default:
        violations.push({
          invariant: invariants.settled,
          orderId: order.id,
          message: `order ${order.id} has status ${order.status}, neither final nor PENDING`,
        });
    }
  }

  const pendingOrders = { running: 0, unverified: 0, notRunning: 0 };
  const unverifiedPendingOrders: string[] = [];
  const resolvedManually: ManualRefund[] = [];
  if (client) {
    for (const [orderId, status] of await workflowStatuses(client, pending)) {
      if (status === 'RUNNING') {
        pendingOrders.running += 1;
        continue;
      }
      pendingOrders.notRunning += 1;
      violations.push({
        invariant: invariants.settled,
        orderId,
        message:
          status === undefined
            ? `order ${orderId} is PENDING but has no workflow ${orderWorkflowId(orderId)}`
            : `order ${orderId} is PENDING but its workflow ${orderWorkflowId(orderId)} is ${status}`,
        hint: 'Its saga will not finish it: compensate its rows by hand, then mark the order CANCELLED.',
      });
    }
    await forEachLimited(keptCharges, temporalConcurrency, async ({ orderId, payments: charged }) => {
      const state = await sagaStateOf(client, orderId);
      const refund = state?.compensations.find((record) => record.compensation === 'refund-payment');
      if (refund?.status === 'resolved-manually' && charged.length === 1) {
        const [payment] = charged as [PaymentRow];
        resolvedManually.push({
          orderId,
          paymentId: payment.id,
          amountCents: payment.amountCents,
          note: refund.operatorNote ?? null,
        });
        return;
      }
      violations.push({
        invariant: invariants.cancelled,
        orderId,
        message: `cancelled order ${orderId} is still charged: ${describePayments(charged)}; ${
          state === undefined
            ? 'it has no workflow'
            : `its refund-payment compensation is ${refund ? refund.status : 'absent'}`
        }`,
      });
    });
  } else {
    pendingOrders.unverified = pending.length;
    unverifiedPendingOrders.push(...pending);
    for (const { orderId, payments: charged } of keptCharges) {
      violations.push({
        invariant: invariants.cancelled,
        orderId,
        message: `cancelled order ${orderId} is still charged: ${describePayments(charged)}`,
        hint: 'If an operator resolved its refund by hand this is expected: run with Temporal to tell (its workflow records the resolution).',
      });
    }
  }

  for (const order of orders) {
    if (order.status === orderRowStatuses.pending) continue;
    const unsettled = rowsByOrder.get(order.id)!.payments.filter((p) => p.status === paymentRowStatuses.pending);
    if (unsettled.length > 0) {
      violations.push({
        invariant: order.status === orderRowStatuses.confirmed ? invariants.confirmed : invariants.cancelled,
        orderId: order.id,
        message: `order ${order.id} is ${order.status} but the gateway's answer to ${ids(unsettled)} was never recorded`,
      });
    }
  }
  const gatewayFigures = gateway
    ? await checkGateway(violations, gateway, orders, new Map(resolvedManually.map((r) => [r.orderId, r.amountCents])))
    : undefined;

  const stock = stockFigures(violations, products, reservations, lines, initialStock);
  const money = moneyFigures(violations, {
    payments,
    pendingIds: new Set(pending),
    confirmedCents,
    resolvedManually,
  });

  return {
    ok: violations.length === 0,
    temporalChecked: client !== undefined,
    figures: {
      orders: countBy(orders),
      reservations: countBy(reservations),
      payments: countBy(payments),
      shipments: countBy(shipments),
      pendingOrders,
      stock,
      money,
      ...(gatewayFigures ? { gateway: gatewayFigures } : {}),
    },
    violations,
    resolvedManually,
    unverifiedPendingOrders,
  };
}

async function checkGateway(
  violations: Violation[],
  gateway: NonNullable<CheckInvariantsOptions['gateway']>,
  orders: OrderRow[],
  keptByHand: Map<string, number>,
): Promise<GatewayFigures> {
  const figures: GatewayFigures = {
    ordersChecked: 0,
    succeededCharges: 0,
    declinedCharges: 0,
    ordersChargedTwice: 0,
    keptCents: 0,
  };
  const final = orders.filter((order) => order.status !== orderRowStatuses.pending);
  await forEachLimited(final, temporalConcurrency, async (order) => {
    const charges = await gateway.chargesOfOrder(order.id);
    const succeeded = charges.filter((charge) => charge.status === 'succeeded');
    const kept = succeeded.reduce((sum, charge) => sum + charge.amountCents - charge.refundedCents, 0);
    figures.ordersChecked += 1;
    figures.succeededCharges += succeeded.length;
    figures.declinedCharges += charges.length - succeeded.length;
    figures.keptCents += kept;
    const describe = () =>
      succeeded.map((c) => `${c.id} ${formatCents(c.amountCents)} refunded ${formatCents(c.refundedCents)}`).join(', ');
    if (succeeded.length > 1) {
      figures.ordersChargedTwice += 1;
      violations.push({
        invariant: invariants.gateway,
        orderId: order.id,
        message: `order ${order.id} was charged ${succeeded.length} times at the gateway: ${describe()}`,
      });
    }
    const owed =
      order.status === orderRowStatuses.confirmed ? (order.totalCents ?? 0) : (keptByHand.get(order.id) ?? 0);
    if (kept !== owed) {
      violations.push({
        invariant: invariants.gateway,
        orderId: order.id,
        message: `the gateway kept ${formatCents(kept)} for ${order.status} order ${order.id}, which owes ${formatCents(owed)}${
          succeeded.length > 0 ? `: ${describe()}` : ''
        }`,
      });
    }
  });
  return figures;
}

function checkConfirmed(violations: Violation[], order: OrderRow, rows: OrderRows): void {
  const violation = (message: string) =>
    violations.push({
      invariant: invariants.confirmed,
      orderId: order.id,
      message: `confirmed order ${order.id} ${message}`,
    });
  const charged = rows.payments.filter((payment) => payment.status === paymentRowStatuses.charged);
  if (order.totalCents === null) violation('has no total');
  if (charged.length !== 1) {
    violation(
      `has ${charged.length} CHARGED payments, expected 1${charged.length > 0 ? `: ${describePayments(charged)}` : ''}`,
    );
  } else {
    const [payment] = charged as [PaymentRow];
    if (order.totalCents !== null && payment.amountCents !== order.totalCents) {
      violation(
        `was charged ${formatCents(payment.amountCents)} (${payment.id}) for a total of ${formatCents(order.totalCents)}`,
      );
    }
    if (order.paymentId !== payment.id) violation(`records payment ${order.paymentId} but ${payment.id} is charged`);
  }
  const created = rows.shipments.filter((shipment) => shipment.status === shipmentRowStatuses.created);
  if (created.length !== 1) {
    violation(`has ${created.length} CREATED shipments, expected 1${created.length > 0 ? `: ${ids(created)}` : ''}`);
  } else if (order.shipmentId !== created[0]!.id) {
    violation(`records shipment ${order.shipmentId} but ${created[0]!.id} is created`);
  }
  const holding = rows.reservations.filter((reservation) => holdsStock(reservation.status));
  if (holding.length !== 1) {
    violation(
      `has ${holding.length} reservations holding stock (RESERVED or COMMITTED), expected 1${holding.length > 0 ? `: ${ids(holding)}` : ''}`,
    );
  }
}

/** Returns the order's CHARGED payments: they are a violation unless its refund was resolved by hand. */
function checkCancelled(violations: Violation[], order: OrderRow, rows: OrderRows): PaymentRow[] {
  const holding = rows.reservations.filter((reservation) => holdsStock(reservation.status));
  if (holding.length > 0) {
    violations.push({
      invariant: invariants.cancelled,
      orderId: order.id,
      message: `cancelled order ${order.id} still holds stock: ${holding.map((r) => `${r.id} (${r.status})`).join(', ')}`,
    });
  }
  const created = rows.shipments.filter((shipment) => shipment.status === shipmentRowStatuses.created);
  if (created.length > 0) {
    violations.push({
      invariant: invariants.cancelled,
      orderId: order.id,
      message: `cancelled order ${order.id} still has a CREATED shipment: ${ids(created)}`,
    });
  }
  return rows.payments.filter((payment) => payment.status === paymentRowStatuses.charged);
}

function checkKnownStatuses(
  violations: Violation[],
  tables: { orders: OrderRow[]; reservations: ReservationRow[]; payments: PaymentRow[]; shipments: ShipmentRow[] },
): void {
  const known = {
    reservation: Object.values(reservationRowStatuses) as string[],
    payment: Object.values(paymentRowStatuses) as string[],
    shipment: Object.values(shipmentRowStatuses) as string[],
  };
  const check = (kind: keyof typeof known, rows: { id: string; orderId: string; status: string }[]) => {
    for (const row of rows) {
      if (!known[kind].includes(row.status)) {
        violations.push({
          invariant: invariants.knownStatus,
          orderId: row.orderId,
          message: `${kind} ${row.id} has status ${row.status}, which no service writes`,
        });
      }
    }
  };
  check('reservation', tables.reservations);
  check('payment', tables.payments);
  check('shipment', tables.shipments);
}

function stockFigures(
  violations: Violation[],
  products: { sku: string; available: number }[],
  reservations: ReservationRow[],
  lines: { reservationId: string; sku: string; quantity: number }[],
  initialStock: Record<string, number> | undefined,
): StockFigure[] {
  const initial = new Map(
    initialStock ? Object.entries(initialStock) : catalogue.map((product) => [product.sku, product.available] as const),
  );
  const available = new Map(products.map((product) => [product.sku, product.available]));
  const statusOf = new Map(reservations.map((reservation) => [reservation.id, reservation.status]));
  const held = new Map<string, { reserved: number; committed: number }>();
  for (const line of lines) {
    const status = statusOf.get(line.reservationId);
    if (status === undefined || !holdsStock(status)) continue;
    const figure = held.get(line.sku) ?? { reserved: 0, committed: 0 };
    if (status === reservationRowStatuses.reserved) figure.reserved += line.quantity;
    else figure.committed += line.quantity;
    held.set(line.sku, figure);
  }

  const skus = [...new Set([...initial.keys(), ...available.keys(), ...held.keys()])].sort();
  return skus.map((sku) => {
    const { reserved, committed } = held.get(sku) ?? { reserved: 0, committed: 0 };
    const start = initial.get(sku) ?? null;
    const left = available.get(sku) ?? null;
    const unaccounted = start === null ? null : start - ((left ?? 0) + reserved + committed);
    const violation = (message: string) => violations.push({ invariant: invariants.stock, sku, message });
    if (start === null) violation(`${sku} is in the inventory but its initial stock is unknown`);
    if (left === null) violation(`${sku} has no product row in the inventory`);
    if (left !== null && left < 0) violation(`${sku} has ${left} available, below zero`);
    if (unaccounted !== null && unaccounted !== 0) {
      violation(
        `${sku}: initial ${start} ≠ available ${left ?? 0} + reserved ${reserved} + committed ${committed}` +
          ` (${unaccounted > 0 ? `${unaccounted} missing` : `${-unaccounted} too many`})`,
      );
    }
    return { sku, initial: start, available: left, reserved, committed, unaccounted };
  });
}

function moneyFigures(
  violations: Violation[],
  input: { payments: PaymentRow[]; pendingIds: Set<string>; confirmedCents: number; resolvedManually: ManualRefund[] },
): MoneyFigures {
  let chargedCents = 0;
  let inFlightCents = 0;
  let refundedCents = 0;
  for (const payment of input.payments) {
    if (payment.status === paymentRowStatuses.charged) {
      chargedCents += payment.amountCents;
      if (input.pendingIds.has(payment.orderId)) inFlightCents += payment.amountCents;
    } else if (payment.status === paymentRowStatuses.refunded) {
      refundedCents += payment.amountCents;
    }
  }
  const resolvedManuallyCents = input.resolvedManually.reduce((sum, refund) => sum + refund.amountCents, 0);
  const unaccountedCents = chargedCents - inFlightCents - (input.confirmedCents + resolvedManuallyCents);
  if (unaccountedCents !== 0) {
    violations.push({
      invariant: invariants.money,
      message:
        `charged ${formatCents(chargedCents - inFlightCents)} outside running orders, but confirmed orders total ` +
        `${formatCents(input.confirmedCents)} and refunds resolved by hand ${formatCents(resolvedManuallyCents)}` +
        ` (${formatCents(Math.abs(unaccountedCents))} ${unaccountedCents > 0 ? 'charged too much' : 'not charged'})`,
    });
  }
  return {
    chargedCents,
    inFlightCents,
    confirmedCents: input.confirmedCents,
    resolvedManuallyCents,
    refundedCents,
    unaccountedCents,
  };
}

/**
 * The workflow status of each order, `undefined` for none. One list of the running order workflows answers most;
 * the others are described one by one, since the list (Temporal's visibility store) may lag behind a just-started run.
 */
async function workflowStatuses(client: Client, orderIds: string[]): Promise<Map<string, string | undefined>> {
  const statuses = new Map<string, string | undefined>();
  if (orderIds.length === 0) return statuses;
  const running = new Set<string>();
  const query = `WorkflowType = '${orderWorkflowType}' AND ExecutionStatus = 'Running'`;
  for await (const execution of client.workflow.list({ query })) running.add(execution.workflowId);
  const unlisted: string[] = [];
  for (const orderId of orderIds) {
    if (running.has(orderWorkflowId(orderId))) statuses.set(orderId, 'RUNNING');
    else unlisted.push(orderId);
  }
  await forEachLimited(unlisted, temporalConcurrency, async (orderId) => {
    statuses.set(orderId, await describeStatus(client, orderId));
  });
  return statuses;
}

async function describeStatus(client: Client, orderId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(orderWorkflowId(orderId)).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The saga state of an order's workflow (getOrderState), or undefined if it has none. A closed run answers a
 * query only by being replayed on an orders worker; when none polls, the state is read from the run's failure
 * instead, where the saga leaves the same state when it ends compensated.
 */
async function sagaStateOf(client: Client, orderId: string): Promise<OrderSagaState | undefined> {
  const handle = client.workflow.getHandle(orderWorkflowId(orderId));
  try {
    return await client.withDeadline(Date.now() + queryDeadlineMs, () => handle.query(getOrderState));
  } catch (queryError) {
    if (queryError instanceof WorkflowNotFoundError) return undefined;
    const status = await describeStatus(client, orderId);
    if (status === undefined || status === 'RUNNING') throw queryError;
    try {
      await handle.result();
    } catch (error) {
      if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure) {
        const [state] = error.cause.details ?? [];
        if (state) return state as OrderSagaState;
      }
    }
    throw queryError;
  }
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function countBy(rows: { status: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of rows) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

function ids(rows: { id: string }[]): string {
  return rows.map((row) => row.id).join(', ');
}

function describePayments(payments: PaymentRow[]): string {
  return payments.map((payment) => `${payment.id} ${formatCents(payment.amountCents)}`).join(', ');
}
