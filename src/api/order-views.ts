import type { z } from 'zod';
import type { ServiceName } from '../temporal/names';
import type { ViewsDb } from '../db';
import type { OutboxTable } from '../events';
import { getOrderHistory, getOrderView, InvalidCursorError, listOrders, measureProjectionLag } from '../read-model';
import { requireOwnerOrOperator } from './auth';
import { HttpProblem } from './problem';
import { parseQuery, type RouteHandler } from './route';
import { orderIdPattern, orderListQuerySchema, type orderHistorySchema, type orderListSchema } from './schemas';

/**
 * The read side of the API (CQRS): the order list and an order's history come
 * from the read model, which the outbox relays keep up to date. It lags the
 * services by the relay's poll (a fraction of a second when all is well), so
 * a client that just placed an order reads it from GET /orders/{id} (the
 * workflow) and finds it in the list a moment later; GET /health/projection
 * says how far behind the list is.
 */
export interface ReadModel {
  views: ViewsDb;
  /** The services' databases, whose outboxes tell the projection's lag. */
  serviceDbs: Record<ServiceName, OutboxTable>;
}

/** GET /orders: a page of orders, filtered and sorted as the query asks. */
export function listOrdersHandler({ views }: ReadModel): RouteHandler {
  return async ({ request, response }) => {
    const query = parseQuery(orderListQuerySchema, request);
    await requireOwnerOrOperator(request, () => query.customerId);
    try {
      const page: z.infer<typeof orderListSchema> = await listOrders(views, {
        ...query,
        createdFrom: query.createdFrom === undefined ? undefined : new Date(query.createdFrom),
        createdTo: query.createdTo === undefined ? undefined : new Date(query.createdTo),
      });
      response.json(page);
    } catch (error) {
      if (error instanceof InvalidCursorError) {
        throw new HttpProblem(400, 'Invalid request', error.message, [{ field: 'cursor', message: error.message }]);
      }
      throw error;
    }
  };
}

/** GET /orders/{orderId}/events: the order's events from every service. */
export function orderEventsHandler({ views }: ReadModel): RouteHandler {
  return async ({ request, response }) => {
    const orderId = String(request.params.orderId);
    const view = orderIdPattern.test(orderId) ? await getOrderView(views, orderId) : null;
    if (!view) throw new HttpProblem(404, 'Order not found', `No events of order ${orderId} (yet)`);
    await requireOwnerOrOperator(request, () => view.customerId ?? undefined);
    const history: z.infer<typeof orderHistorySchema> = { orderId, events: await getOrderHistory(views, orderId) };
    response.json(history);
  };
}

/** GET /health/projection: how far the read model is behind the services. */
export function projectionLagHandler({ serviceDbs }: ReadModel): RouteHandler {
  return async ({ response }) => {
    const { lagMs, byService } = await measureProjectionLag(serviceDbs);
    response.json({ lagMs, byService });
  };
}
