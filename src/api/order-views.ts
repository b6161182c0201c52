import { Router, type Request } from 'express';
import type { z } from 'zod';
import type { ServiceName } from '../temporal/names';
import type { ViewsDb } from '../db';
import type { OutboxTable } from '../events';
import { getOrderHistory, getOrderView, InvalidCursorError, listOrders, measureProjectionLag } from '../read-model';
import { requireOwnerOrOperator } from './auth';
import { HttpProblem, type FieldError } from './problem';
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

function queryProblems(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : '(query)',
    message: issue.message,
  }));
}

function parseQuery(request: Request) {
  const parsed = orderListQuerySchema.safeParse(request.query);
  if (!parsed.success) {
    throw new HttpProblem(
      400,
      'Invalid request',
      'The query string has invalid parameters',
      queryProblems(parsed.error),
    );
  }
  return parsed.data;
}

export function orderViewsRouter({ views, serviceDbs }: ReadModel): Router {
  const router = Router();

  router.get('/orders', async (request, response) => {
    const query = parseQuery(request);
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
  });

  router.get('/orders/:orderId/events', async (request, response) => {
    const orderId = String(request.params.orderId);
    const view = orderIdPattern.test(orderId) ? await getOrderView(views, orderId) : null;
    if (!view) throw new HttpProblem(404, 'Order not found', `No events of order ${orderId} (yet)`);
    await requireOwnerOrOperator(request, () => view.customerId ?? undefined);
    const history: z.infer<typeof orderHistorySchema> = { orderId, events: await getOrderHistory(views, orderId) };
    response.json(history);
  });

  router.get('/health/projection', async (_request, response) => {
    const { lagMs, byService } = await measureProjectionLag(serviceDbs);
    response.json({ lagMs, byService });
  });

  return router;
}
