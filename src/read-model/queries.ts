/**
 * Reading the read model: an order's view, its event history, and the list
 * of orders with filters, sorting and cursor pagination (cursor.ts).
 */
import type { ViewsDb } from '../db';
import type { DomainEvent } from '../events';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor';
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
  const direction = sort === 'createdAt:asc' ? 'asc' : 'desc';
  const beyond = direction === 'asc' ? 'gt' : 'lt';
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, fingerprint);
  const rows = await db.orderView.findMany({
    where: {
      status: query.status,
      customerId: query.customerId,
      createdAt: { gte: query.createdFrom, lt: query.createdTo },
      ...(after && {
        OR: [
          { createdAt: { [beyond]: after.createdAt } },
          { createdAt: after.createdAt, orderId: { [beyond]: after.orderId } },
        ],
      }),
    },
    orderBy: [{ createdAt: direction }, { orderId: direction }],
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    orders: page.map(toOrderView),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ createdAt: last.createdAt, orderId: last.orderId }, fingerprint)
        : null,
  };
}
