/**
 * Reading the read model: an order's view, its event history, and the list
 * of orders with filters, sorting and cursor pagination (cursor.ts).
 */
import { sqlReaderOf, type SqlValue, type ViewsDb } from '../db';
import type { DomainEvent } from '../events';
import { decodeCursor, encodeCursor, queryFingerprint, type CursorKey } from './cursor';
import { canonicalOrder, type FoldedOrder, type OrderViewItem, type OrderViewStatus } from './fold';
import { storedEventsOf } from './projection';

/** An order's view as the API shows it: times as ISO 8601 strings (UTC). */
export interface OrderView extends Omit<FoldedOrder, 'createdAt' | 'updatedAt'> {
  createdAt: string;
  updatedAt: string;
}

type OrderViewRow = Awaited<ReturnType<ViewsDb['orderView']['findUniqueOrThrow']>>;

function toOrderView(row: OrderViewRow): OrderView {
  return {
    ...row,
    status: row.status as OrderView['status'],
    reservationStatus: row.reservationStatus as OrderView['reservationStatus'],
    paymentStatus: row.paymentStatus as OrderView['paymentStatus'],
    shipmentStatus: row.shipmentStatus as OrderView['shipmentStatus'],
    items: JSON.parse(row.items) as OrderViewItem[],
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function getOrderView(db: ViewsDb, orderId: string): Promise<OrderView | null> {
  const row = await db.orderView.findUnique({ where: { orderId } });
  return row ? toOrderView(row) : null;
}

/**
 * Every event applied to the order, at the catalogue's current schema
 * versions, in the order its view folds them (fold.ts canonicalOrder); empty
 * for an order the read model has not seen.
 */
export async function getOrderHistory(db: ViewsDb, orderId: string): Promise<DomainEvent[]> {
  return canonicalOrder(await storedEventsOf(db, orderId));
}

export const orderListSorts = ['createdAt:desc', 'createdAt:asc'] as const;
export type OrderListSort = (typeof orderListSorts)[number];

export const orderListPageSize = { default: 20, max: 100 } as const;

export interface ListOrdersQuery {
  status?: OrderViewStatus;
  customerId?: string;
  /** Created at or after. */
  createdFrom?: Date;
  /** Created before. */
  createdTo?: Date;
  /** Default createdAt:desc (newest first); ties are broken by orderId in the same direction. */
  sort?: OrderListSort;
  /** 1 to orderListPageSize.max; default orderListPageSize.default. */
  limit?: number;
  /** The previous page's nextCursor, with the same sort and filters; else InvalidCursorError. */
  cursor?: string;
}

export interface OrderPage {
  orders: OrderView[];
  /** Null on the last page. */
  nextCursor: string | null;
}

export async function listOrders(db: ViewsDb, query: ListOrdersQuery = {}): Promise<OrderPage> {
  const sort = query.sort ?? 'createdAt:desc';
  const limit = query.limit ?? orderListPageSize.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > orderListPageSize.max) {
    throw new RangeError(`limit must be an integer from 1 to ${orderListPageSize.max}`);
  }
  const fingerprint = queryFingerprint({
    sort,
    status: query.status,
    customerId: query.customerId,
    createdFrom: query.createdFrom?.toISOString(),
    createdTo: query.createdTo?.toISOString(),
  });
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, fingerprint);
  const { name, sql, values } = orderListSql(sort, query, after, limit + 1);
  const rows = await sqlReaderOf(db).select(name, sql, values);
  const page = rows.slice(0, limit).map(listedOrderView);
  const last = page[page.length - 1];
  return {
    orders: page,
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ createdAt: new Date(last.createdAt), orderId: last.orderId }, fingerprint)
        : null,
  };
}

/**
 * The list's SELECT, one statement per combination of filters (so each is prepared once): keyset pagination on
 * (createdAt, orderId), which the indexes (createdAt, orderId), (status, createdAt, orderId) and
 * (customerId, createdAt, orderId) serve in order, so a page reads only its own rows whatever the table's size.
 */
function orderListSql(
  sort: OrderListSort,
  query: ListOrdersQuery,
  after: CursorKey | undefined,
  take: number,
): { name: string; sql: string; values: SqlValue[] } {
  const direction = sort === 'createdAt:asc' ? 'ASC' : 'DESC';
  const conditions: string[] = [];
  const values: SqlValue[] = [];
  const flags: string[] = [direction.toLowerCase()];
  const where = (flag: string, condition: string, ...bound: SqlValue[]) => {
    flags.push(flag);
    conditions.push(condition);
    values.push(...bound);
  };
  if (query.status !== undefined) where('status', '"status" = ?', query.status);
  if (query.customerId !== undefined) where('customer', '"customerId" = ?', query.customerId);
  if (query.createdFrom !== undefined) where('from', '"createdAt" >= ?', query.createdFrom);
  if (query.createdTo !== undefined) where('to', '"createdAt" < ?', query.createdTo);
  if (after) {
    where(
      'after',
      `("createdAt", "orderId") ${direction === 'ASC' ? '>' : '<'} (?, ?)`,
      after.createdAt,
      after.orderId,
    );
  }
  values.push(take);
  return {
    name: `OrderView.list.${flags.join('.')}`,
    sql:
      `SELECT ${listedColumns} FROM "OrderView"` +
      (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ` ORDER BY "createdAt" ${direction}, "orderId" ${direction} LIMIT ?`,
    values,
  };
}

/** Every column of OrderView, in the order listedOrderView reads them (the model's, as the API answers them). */
const listedColumns = [
  'orderId',
  'workflowId',
  'status',
  'customerId',
  'currency',
  'items',
  'itemCount',
  'totalCents',
  'reservationId',
  'reservationStatus',
  'paymentId',
  'paymentStatus',
  'paymentAmountCents',
  'declineReason',
  'shipmentId',
  'shipmentStatus',
  'carrier',
  'trackingNumber',
  'shippingCents',
  'shippingRateSource',
  'stockReleased',
  'paymentRefunded',
  'shipmentCancelled',
  'cancelReason',
  'createdAt',
  'updatedAt',
  'lastEventId',
  'lastEventType',
  'lastAggregateVersion',
  'eventCount',
]
  .map((column) => `"${column}"`)
  .join(', ');

/** A row of listedColumns as the API shows it: the same keys, in the same order, as toOrderView. */
function listedOrderView(row: unknown[]): OrderView {
  return {
    orderId: row[0] as string,
    workflowId: row[1] as string,
    status: row[2] as OrderView['status'],
    customerId: row[3] as string | null,
    currency: row[4] as string | null,
    items: JSON.parse(row[5] as string) as OrderViewItem[],
    itemCount: row[6] as number,
    totalCents: row[7] as number | null,
    reservationId: row[8] as string | null,
    reservationStatus: row[9] as OrderView['reservationStatus'],
    paymentId: row[10] as string | null,
    paymentStatus: row[11] as OrderView['paymentStatus'],
    paymentAmountCents: row[12] as number | null,
    declineReason: row[13] as string | null,
    shipmentId: row[14] as string | null,
    shipmentStatus: row[15] as OrderView['shipmentStatus'],
    carrier: row[16] as string | null,
    trackingNumber: row[17] as string | null,
    shippingCents: row[18] as number | null,
    shippingRateSource: row[19] as string | null,
    stockReleased: row[20] as boolean,
    paymentRefunded: row[21] as boolean,
    shipmentCancelled: row[22] as boolean,
    cancelReason: row[23] as string | null,
    createdAt: row[24] as string,
    updatedAt: row[25] as string,
    lastEventId: row[26] as string,
    lastEventType: row[27] as string,
    lastAggregateVersion: row[28] as number,
    eventCount: row[29] as number,
  };
}
