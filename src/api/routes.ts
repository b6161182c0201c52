import { metricsPath } from '../metrics/api';
import {
  docsAssetHandler,
  docsAssets,
  docsAssetsPath,
  docsInitializerHandler,
  docsInitializerPath,
  docsPageHandler,
  docsPath,
  openApiDocumentHandler,
  openApiPath,
} from './docs';
import { livenessHandler, readinessHandler } from './health';
import {
  answer,
  bodyTooLarge,
  callerProblems,
  content,
  inlineSchema,
  invalidBody,
  keyRequired,
  listQueryParameters,
  locationHeader,
  notJson,
  orderIdParameter,
  orderLinks,
  orderNotFound,
  pathEnum,
  problem,
  replayedHeader,
  retryAfterHeader,
  temporalUnavailable,
  tooManyRequests,
  unavailable,
  type OpenApiParameter,
} from './openapi-parts';
import { listOrdersHandler, orderEventsHandler, projectionLagHandler } from './order-views';
import {
  cancelOrderHandler,
  decideApprovalHandler,
  getOrderHandler,
  placeOrderHandler,
  resolveCompensationHandler,
} from './orders';
import { problemTypePageHandler, problemTypes, problemTypesPath } from './problem-types';
import { route, type Route, type RouteHandler, type RouteServices } from './route';
import {
  cancelSchema,
  decisionSchema,
  idempotencyKeyHeader,
  idempotencyKeySchema,
  livenessSchema,
  orderAcceptedSchema,
  orderCreatedSchema,
  orderHistorySchema,
  orderListSchema,
  orderRequestSchema,
  orderStateSchema,
  projectionLagSchema,
  readinessSchema,
  resolutionSchema,
  type ApprovalDecision,
  type CompensationResolution,
} from './schemas';

/**
 * Every route of the API, declared once: what the router serves (src/api/route.ts) and what the OpenAPI document
 * says of it (src/api/openapi.ts), in the document's order.
 */

/** An operator's decision on an order: approve, reject, resolve a compensation. */
function operatorAction<Body extends ApprovalDecision | CompensationResolution>(declared: {
  path: string;
  operationId: string;
  summary: string;
  description: string;
  body: Route<Body>['body'];
  conflict: string;
  handler: (services: RouteServices) => RouteHandler<Body>;
}): Route {
  const { conflict, ...operation } = declared;
  return route<Body>({
    method: 'post',
    ...operation,
    tags: ['Operators'],
    parameters: [orderIdParameter],
    security: keyRequired,
    responses: {
      '202': answer('Accepted: the order state right after the decision.', orderStateSchema, locationHeader),
      '400': invalidBody,
      ...callerProblems("The key is a customer's: only operators take this decision."),
      '404': orderNotFound,
      '409': problem(conflict),
      '413': bodyTooLarge,
      '415': notJson,
      '503': temporalUnavailable,
    },
  });
}

/** The document itself, its page and the problem types' pages: open, rate-limited. */
function documentation(declared: {
  path: string;
  operationId: string;
  summary: string;
  contentTypes: string[];
  parameters?: OpenApiParameter[];
  handler: (services: RouteServices) => RouteHandler;
}): Route {
  const { contentTypes, summary, ...operation } = declared;
  return route({
    method: 'get',
    ...operation,
    summary,
    tags: ['Documentation'],
    responses: { '200': content(summary, contentTypes), '429': tooManyRequests },
  });
}

export const routes: readonly Route[] = [
  route({
    method: 'get',
    path: '/orders',
    operationId: 'listOrders',
    summary: 'List orders (from the read model)',
    description:
      "Orders as the services' events describe them, newest first by default, a page at a time: pass the " +
      "answer's `nextCursor` as `cursor`, with the same filters, for the next page. The list follows the " +
      'services within a moment (GET /health/projection says how far behind it is): a just-placed order is ' +
      'read from GET /orders/{orderId} until it appears here. A customer key must filter by its own customerId.',
    tags: ['Orders'],
    parameters: listQueryParameters(),
    security: keyRequired,
    responses: {
      '200': { ...answer('A page of orders.', orderListSchema), links: orderLinks('$response.body#/orders/0/orderId') },
      '400': problem('An unknown or invalid parameter, or a cursor that is malformed or from another query.'),
      ...callerProblems("A customer's key without its own customerId as filter."),
    },
    handler: ({ readModel }) => readModel && listOrdersHandler(readModel),
  }),
  route({
    method: 'post',
    path: '/orders',
    operationId: 'placeOrder',
    summary: 'Place an order',
    description:
      'Starts the order saga and, by default, answers once the saga has accepted the order (order row ' +
      'created, stock reserved; it may then await approval): 201 with its state, while payment and shipping ' +
      'go on. An order refused at that point (out of stock, unknown sku, blocked customer) answers 422 with ' +
      'the reason, after every step taken was compensated. If the acceptance takes longer than a few ' +
      'seconds (a step retrying), the answer is 202 and the order goes on; so is the answer to ' +
      "`Prefer: respond-async`, which does not wait at all. The Idempotency-Key and the order's customer " +
      "(for a customer's API key, the caller) determine the order id: two customers sending the same key " +
      "place two orders, and neither learns of the other's. A repeat by the same customer with the same body " +
      '(also concurrent, also after the order finished) gets the same answer with `Idempotent-Replayed: true`, ' +
      'and starts nothing; one with another body is refused (422). Bodies are compared after validation, so ' +
      "key order and whitespace do not matter. A key is remembered as long as the order's run is retained in " +
      'Temporal.',
    tags: ['Orders'],
    parameters: [
      {
        name: idempotencyKeyHeader,
        in: 'header',
        description: "Identifies this order request among its customer's; the order id is derived from both.",
        required: true,
        schema: inlineSchema(idempotencyKeySchema),
      },
      {
        name: 'Prefer',
        in: 'header',
        description: '`respond-async`: answer 202 as soon as the order runs, without waiting for its acceptance.',
        required: false,
        schema: { type: 'string' },
      },
    ],
    body: { schema: orderRequestSchema, required: true },
    security: keyRequired,
    responses: {
      '201': {
        ...answer('Created: the saga accepted the order; its state at that moment.', orderCreatedSchema, {
          ...locationHeader,
          ...replayedHeader,
        }),
        links: orderLinks('$response.body#/orderId'),
      },
      '202': {
        ...answer(
          'Accepted: the order runs. Asked for with `Prefer: respond-async` (then `Preference-Applied: ' +
            'respond-async` is set), or the acceptance took longer than the API waits.',
          orderAcceptedSchema,
          {
            ...locationHeader,
            ...replayedHeader,
            'Preference-Applied': {
              description: '`respond-async` when the request asked for it.',
              schema: { type: 'string', const: 'respond-async' },
            },
          },
        ),
        links: orderLinks('$response.body#/orderId'),
      },
      '400': problem(
        'Invalid fields (`errors` names each one), malformed JSON, or a missing or invalid Idempotency-Key.',
      ),
      ...callerProblems("A customer's key placing an order for another customerId."),
      '409': problem(
        'The order was cancelled before the saga accepted it (/problems/order-cancelled); `state` shows it.',
      ),
      '413': bodyTooLarge,
      '415': notJson,
      '422': problem(
        'The saga rejected the order (/problems/order-rejected: `state.failure` names the reason, ' +
          '`state.compensations` what was undone), or the Idempotency-Key was first used with another body ' +
          '(/problems/idempotency-key-reused).',
      ),
      '503': unavailable(
        'Temporal, or the orders database (asked whether the key placed an order before keys were scoped to ' +
          'their customer), did not answer in time (5 s); try again shortly.',
      ),
    },
    handler: ({ placement }) => placeOrderHandler(placement),
  }),
  route({
    method: 'get',
    path: '/orders/{orderId}',
    operationId: 'getOrder',
    summary: "The order's saga state",
    tags: ['Orders'],
    parameters: [orderIdParameter],
    security: keyRequired,
    responses: {
      '200': answer("The order's state.", orderStateSchema),
      '400': problem('The URL is not valid percent-encoding.'),
      ...callerProblems("A customer's key reading another customer's order."),
      '404': orderNotFound,
      '503': temporalUnavailable,
    },
    handler: ({ orders }) => getOrderHandler(orders),
  }),
  route({
    method: 'get',
    path: '/orders/{orderId}/events',
    operationId: 'getOrderEvents',
    summary: "The order's history across the four services (from the read model)",
    description:
      'Every domain event of the order, from every service, in order: each aggregate by its version, ' +
      'aggregates merged by time. Older event versions are upcast to the current schema.',
    tags: ['Orders'],
    parameters: [orderIdParameter],
    security: keyRequired,
    responses: {
      '200': answer('The events.', orderHistorySchema),
      ...callerProblems("A customer's key reading another customer's order."),
      '404': problem('No events of this order (unknown, or not yet projected).'),
    },
    handler: ({ readModel }) => readModel && orderEventsHandler(readModel),
  }),
  route({
    method: 'post',
    path: '/orders/{orderId}/cancel',
    operationId: 'cancelOrder',
    summary: 'Cancel an order',
    description:
      'The body is optional; without one the reason is "Cancelled by the customer". The step in flight ' +
      'finishes, then every completed step is compensated in reverse order; the answer waits a few seconds ' +
      'for that to end.',
    tags: ['Orders'],
    parameters: [orderIdParameter],
    body: { schema: cancelSchema, required: false },
    security: keyRequired,
    responses: {
      '200': answer(
        'Cancelled: the final state, `compensations` listing what was undone (or `needs-attention` when a ' +
          'compensation waits for an operator).',
        orderStateSchema,
        locationHeader,
      ),
      '202': answer(
        'Cancellation accepted but not finished within the wait: the state so far; GET the order to follow it.',
        orderStateSchema,
        locationHeader,
      ),
      '400': invalidBody,
      ...callerProblems("A customer's key cancelling another customer's order."),
      '404': orderNotFound,
      '409': problem(
        'The order can no longer be cancelled (it is confirmed, finished, or past its last step); for a ' +
          'finished order, `state` holds its final state.',
      ),
      '413': bodyTooLarge,
      '415': notJson,
      '503': temporalUnavailable,
    },
    handler: ({ orders }) => cancelOrderHandler(orders),
  }),
  operatorAction({
    path: '/orders/{orderId}/approve',
    operationId: 'approveOrder',
    summary: 'Approve an order awaiting approval',
    description: 'Orders over the approval threshold wait for this decision before payment.',
    body: { schema: decisionSchema, required: true },
    conflict: 'The order is not awaiting approval.',
    handler: ({ orders }) => decideApprovalHandler(orders, true),
  }),
  operatorAction({
    path: '/orders/{orderId}/reject',
    operationId: 'rejectOrder',
    summary: 'Reject an order awaiting approval',
    description: 'The order is compensated and ends failed (ApprovalRejected).',
    body: { schema: decisionSchema, required: true },
    conflict: 'The order is not awaiting approval.',
    handler: ({ orders }) => decideApprovalHandler(orders, false),
  }),
  operatorAction({
    path: '/orders/{orderId}/compensation',
    operationId: 'resolveCompensation',
    summary: 'Retry or resolve a failed compensation',
    description: 'A compensation whose retries ran out waits for an operator (status needs-attention).',
    body: { schema: resolutionSchema, required: true },
    conflict: 'No compensation waits for an operator.',
    handler: ({ orders }) => resolveCompensationHandler(orders),
  }),
  route({
    method: 'get',
    path: '/health/live',
    operationId: 'liveness',
    summary: 'Liveness: 200 while the process runs',
    tags: ['Health'],
    responses: { '200': answer('The process runs.', livenessSchema) },
    handler: () => livenessHandler,
  }),
  route({
    method: 'get',
    path: '/health/ready',
    operationId: 'readiness',
    summary: 'Readiness: Temporal and the four databases answer',
    tags: ['Health'],
    responses: {
      '200': answer('Every dependency answers.', readinessSchema),
      '503': answer('A dependency does not answer; `checks` names it and why.', readinessSchema, retryAfterHeader),
    },
    handler: ({ readinessChecks }) => readinessHandler(readinessChecks),
  }),
  route({
    method: 'get',
    path: '/health/projection',
    operationId: 'projectionLag',
    summary: 'How far the read model is behind the services',
    tags: ['Health'],
    responses: { '200': answer('The lag, and per service the events waiting or parked.', projectionLagSchema) },
    handler: ({ readModel }) => readModel && projectionLagHandler(readModel),
  }),
  route({
    method: 'get',
    path: metricsPath,
    operationId: 'metrics',
    summary: 'Prometheus metrics of the API process',
    description:
      'Prometheus text format 0.0.4: request durations by route, orders that need attention, the projection ' +
      "lag and the process's own figures. Open like the health probes (a scraper carries no API key) and not " +
      'rate-limited: expose the API only where that is acceptable (API_HOST).',
    tags: ['Monitoring'],
    responses: { '200': content('The current values of every series.', ['text/plain'], { type: 'string' }) },
    beforeCallers: true,
    // src/metrics/api.ts serves the scrape on this same path.
    handler:
      ({ metrics }) =>
      ({ request, response, next }) => {
        metrics.router(request, response, next);
      },
  }),
  documentation({
    path: `${problemTypesPath}/{type}`,
    operationId: 'problemType',
    summary: 'What a problem type means: the page its `type` resolves to',
    contentTypes: ['text/html'],
    parameters: [pathEnum('type', "The last segment of a problem's `type`.", Object.keys(problemTypes))],
    handler: () => problemTypePageHandler,
  }),
  documentation({
    path: openApiPath,
    operationId: 'openApiDocument',
    summary: 'This OpenAPI 3.1 document',
    contentTypes: ['application/json'],
    handler: ({ document }) => openApiDocumentHandler(document),
  }),
  documentation({
    path: docsPath,
    operationId: 'docsPage',
    summary: 'Interactive documentation (Swagger UI)',
    contentTypes: ['text/html'],
    handler: ({ document }) => docsPageHandler(document),
  }),
  documentation({
    path: docsInitializerPath,
    operationId: 'docsInitializer',
    summary: "The docs page's script: loads this document",
    contentTypes: ['text/javascript'],
    handler: () => docsInitializerHandler,
  }),
  documentation({
    path: `${docsAssetsPath}/{asset}`,
    operationId: 'docsAsset',
    summary: "Swagger UI's files, served from the API itself",
    contentTypes: ['text/css', 'text/javascript', 'image/png'],
    parameters: [pathEnum('asset', 'A file of Swagger UI.', docsAssets)],
    handler: () => docsAssetHandler,
  }),
];
