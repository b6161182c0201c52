import type { Client } from '@temporalio/client';
import { Router, type Request, type RequestHandler } from 'express';
import { Histogram, Registry } from 'prom-client';
import type { OutboxTable } from '../events';
import { measureProjectionLag } from '../read-model';
import { needsAttentionAttribute, orderWaitingOnAttribute } from '../temporal/search-attributes';
import { serviceNames, type ServiceName } from '../temporal/names';
import { orderSteps, orderWorkflowType, type OrderStep } from '../workflows/definitions';
import { apiMetrics, prometheusContentType, scrapeMeasureTimeoutMs, unmatchedRoute } from './definitions';
import { scrapeTimeGauges, sharedPerScrape } from './measured-gauge';

export const metricsPath = '/metrics';

export interface ApiMetricsSources {
  /** Counts the orders that wait for an operator (Temporal's visibility). */
  client: Client;
  /** The services' outboxes, whose oldest undelivered event is the projection's lag; without them, no lag gauges. */
  outboxes?: Record<ServiceName, OutboxTable>;
}

export interface ApiMetrics {
  registry: Registry;
  /** Times every request by method, route pattern and status: mount it before everything else. */
  timeRequests: RequestHandler;
  /** `GET /metrics`, open like the health probes (Prometheus carries no API key). */
  router: Router;
}

/**
 * Orders waiting for an operator, from the `NeedsAttention` search attribute the saga keeps current. The read
 * model does not know this state (it is the workflow's, not an event of a service), and Temporal answers a count
 * without listing runs. Only running runs: a resolved order sets it back to false, but a run terminated while
 * waiting would keep it for ever.
 */
export const needsAttentionQuery = `WorkflowType = '${orderWorkflowType}' AND ${needsAttentionAttribute.name} = true AND ExecutionStatus = 'Running'`;

/** Orders delayed at `step` by transient trouble, from the `OrderWaitingOn` search attribute the saga keeps current. */
export function waitingOrdersQuery(step: OrderStep): string {
  return `WorkflowType = '${orderWorkflowType}' AND ${orderWaitingOnAttribute.name} = '${step}' AND ExecutionStatus = 'Running'`;
}

/** The steps that wait out trouble (not the approval, which waits for a person). */
const waitingSteps = orderSteps.filter((step) => step !== 'await-approval');

/** The route a request matched, as Express spells its pattern (`/orders/:orderId`): never the raw URL. */
function routeOf(request: Request): string {
  const route = request.route as { path?: unknown } | undefined;
  return typeof route?.path === 'string' ? route.path : unmatchedRoute;
}

/**
 * The API's metrics on `registry` (the process's, with its default metrics, in src/api/server.ts; a fresh one
 * otherwise): request durations, orders that need attention and the projection's lag.
 */
export function createApiMetrics({ client, outboxes }: ApiMetricsSources, registry = new Registry()): ApiMetrics {
  const { httpDuration, needsAttention, waitingOrders, projectionLag, outboxEvents } = apiMetrics;
  const duration = new Histogram({
    ...httpDuration,
    labelNames: [...httpDuration.labelNames],
    buckets: [...httpDuration.buckets],
    registers: [registry],
  });
  const gauges = scrapeTimeGauges(registry);

  gauges.add({
    ...needsAttention,
    measure: async () => {
      const deadline = Date.now() + scrapeMeasureTimeoutMs;
      const { count } = await client.withDeadline(deadline, () => client.workflow.count(needsAttentionQuery));
      return [{ value: count }];
    },
  });

  gauges.add({
    ...waitingOrders,
    measure: async () => {
      const deadline = Date.now() + scrapeMeasureTimeoutMs;
      return Promise.all(
        waitingSteps.map(async (step) => {
          const { count } = await client.withDeadline(deadline, () => client.workflow.count(waitingOrdersQuery(step)));
          return { labels: { step }, value: count };
        }),
      );
    },
  });

  if (outboxes) {
    const lag = sharedPerScrape(() => measureProjectionLag(outboxes));
    gauges.add({
      ...projectionLag,
      measure: async () => [{ value: (await lag()).lagMs / 1000 }],
    });
    gauges.add({
      ...outboxEvents,
      measure: async () => {
        const { byService } = await lag();
        return serviceNames.flatMap((service) => [
          { labels: { service, status: 'pending' }, value: byService[service].pendingEvents },
          { labels: { service, status: 'parked' }, value: byService[service].parkedEvents },
        ]);
      },
    });
  }

  const timeRequests: RequestHandler = (request, response, next) => {
    const stop = duration.startTimer();
    response.once('finish', () => {
      stop({ method: request.method, route: routeOf(request), status: String(response.statusCode) });
    });
    next();
  };

  const router = Router();
  router.get(metricsPath, async (_request, response) => {
    await gauges.measureAll();
    const text = await registry.metrics();
    response.type(prometheusContentType).send(text);
  });

  return { registry, timeRequests, router };
}
