/**
 * The read model (CQRS): orders as the four services' domain events describe
 * them, in a database of its own (`views`, prisma/views), kept up to date by
 * the outbox relay calling {@link applyEvents} and read by the API.
 *
 * - fold.ts: an order's view as a function of the set of its events
 * - projection.ts: applyEvents (store by event id, refold), idempotent
 * - queries.ts, cursor.ts: an order's view and history, the paginated list
 * - rebuild.ts: wipe and re-apply every outbox event
 * - lag.ts: how far behind the views are
 */
export {
  canonicalOrder,
  foldOrder,
  NotOneOrder,
  orderViewStatuses,
  paymentStatuses,
  reservationStatuses,
  shipmentStatuses,
  type FoldedOrder,
  type OrderViewItem,
  type OrderViewStatus,
  type PaymentStatus,
  type ReservationStatus,
  type ShipmentStatus,
} from './fold';
export { applyEvents, type ApplyOptions, type ApplyOutcome } from './projection';
export { InvalidCursorError } from './cursor';
export {
  getOrderHistory,
  getOrderView,
  listOrders,
  orderListPageSize,
  orderListSorts,
  type ListOrdersQuery,
  type OrderListSort,
  type OrderPage,
  type OrderView,
} from './queries';
export {
  rebuildReadModel,
  type OutboxSource,
  type RebuildOptions,
  type RebuildProgress,
  type RebuildReport,
} from './rebuild';
export { measureProjectionLag, type ProjectionLag, type ServiceLag } from './lag';
