import { createRequire } from 'node:module';
import path from 'node:path';
import { Router } from 'express';
import { z } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { metricsPath } from '../metrics/api';
import { apiKeyHeader } from './auth';
import { retryAfterUnavailableSeconds } from './problem';
import { problemTypes, problemTypesPath } from './problem-types';
import { requestIdHeader } from './request-id';
import {
  cancelSchema,
  compensationRecordSchema,
  decisionSchema,
  fieldErrorSchema,
  idempotencyKeyHeader,
  idempotencyKeySchema,
  idempotentReplayedHeader,
  livenessSchema,
  orderAcceptedSchema,
  orderCreatedSchema,
  orderFailureSchema,
  orderEventSchema,
  orderHistorySchema,
  orderIdSchema,
  orderListQuerySchema,
  orderListSchema,
  orderRequestSchema,
  orderViewSchema,
  projectionLagSchema,
  orderStateSchema,
  problemSchema,
  readinessSchema,
  requestBodyLimit,
  resolutionSchema,
  shippingRateSchema,
} from './schemas';

/**
 * The OpenAPI 3.1 document of the API, generated from the zod schemas in
 * src/api/schemas.ts (the same ones the routes validate with), served at
 * /openapi.json and shown by Swagger UI at /docs, both without any CDN.
 */

export type JsonSchema = Record<string, unknown>;

export interface OpenApiMediaType {
  schema: JsonSchema;
}

export interface OpenApiHeader {
  description: string;
  required?: boolean;
  schema: JsonSchema;
}

/** An OpenAPI link: how a value of this answer feeds another operation, for tools and clients to follow. */
export interface OpenApiLink {
  operationId: string;
  parameters: Record<string, string>;
  description: string;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, OpenApiHeader>;
  content?: Record<string, OpenApiMediaType>;
  links?: Record<string, OpenApiLink>;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'header' | 'query';
  description: string;
  required: boolean;
  schema: JsonSchema;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, OpenApiMediaType> };
  responses: Record<string, OpenApiResponse>;
  /** Alternatives: any one of them suffices. Absent: the route is open. */
  security?: Record<string, string[]>[];
}

export type OpenApiSecurityScheme =
  | { type: 'http'; scheme: 'bearer'; description: string }
  | { type: 'apiKey'; in: 'header'; name: string; description: string };

export const httpMethods = ['get', 'post'] as const;
export type HttpMethod = (typeof httpMethods)[number];

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, OpenApiSecurityScheme> };
}

export const openApiPath = '/openapi.json';
export const docsPath = '/docs';
const docsInitializerPath = `${docsPath}/init.js`;
const docsAssetsPath = `${docsPath}/assets`;

/** The files of swagger-ui-dist the page loads; nothing else of the package is served. */
const docsAssets = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png'] as const;

const target = 'draft-2020-12';

/** Named schemas: answers as the API sends them (output), requests as clients send them (input: defaults optional). */
const answers = z.registry<{ id: string }>();
answers.add(orderAcceptedSchema, { id: 'OrderAccepted' });
answers.add(orderCreatedSchema, { id: 'OrderCreated' });
answers.add(orderStateSchema, { id: 'OrderState' });
answers.add(compensationRecordSchema, { id: 'CompensationRecord' });
answers.add(orderFailureSchema, { id: 'OrderFailure' });
answers.add(shippingRateSchema, { id: 'ShippingRate' });
answers.add(orderViewSchema, { id: 'OrderView' });
answers.add(orderListSchema, { id: 'OrderList' });
answers.add(orderEventSchema, { id: 'OrderEvent' });
answers.add(orderHistorySchema, { id: 'OrderHistory' });
answers.add(projectionLagSchema, { id: 'ProjectionLag' });
answers.add(livenessSchema, { id: 'Liveness' });
answers.add(readinessSchema, { id: 'Readiness' });
answers.add(problemSchema, { id: 'Problem' });
answers.add(fieldErrorSchema, { id: 'FieldError' });

const requests = z.registry<{ id: string }>();
// Its refinement (no sku twice) has no JSON Schema equivalent; the description states it.
requests.add(
  orderRequestSchema.meta({
    description: 'An order. Each sku may appear only once in items; raise its quantity instead.',
  }),
  { id: 'OrderRequest' },
);
requests.add(cancelSchema, { id: 'CancelRequest' });
requests.add(decisionSchema, { id: 'ApprovalDecision' });
requests.add(resolutionSchema, { id: 'CompensationResolution' });

const componentUri = (id: string) => `#/components/schemas/${id}`;

/** Each component is a subschema of the document: its own $schema and $id (a fragment) do not belong there. */
function asComponents(schemas: Record<string, JsonSchema>): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]),
  );
}

function inlineSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target, io: 'input' }) as JsonSchema;
  return json;
}

const ref = (id: string): JsonSchema => ({ $ref: componentUri(id) });

const requestIdResponseHeader: Record<string, OpenApiHeader> = {
  [requestIdHeader]: {
    description: "The request's id: the client's own if acceptable, else a new UUID.",
    schema: { type: 'string' },
  },
};

const requestIdParameter: OpenApiParameter = {
  name: requestIdHeader,
  in: 'header',
  description:
    'Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a ' +
    'UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run.',
  required: false,
  schema: { type: 'string' },
};

/** GET /orders' query parameters, one per field of the schema that validates them. */
function listQueryParameters(): OpenApiParameter[] {
  const { properties = {} } = inlineSchema(orderListQuerySchema) as { properties?: Record<string, JsonSchema> };
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query' as const,
    description: typeof schema.description === 'string' ? schema.description : name,
    required: false,
    schema,
  }));
}

const orderIdParameter: OpenApiParameter = {
  name: 'orderId',
  in: 'path',
  description: 'The order id from the answer of POST /orders.',
  required: true,
  schema: inlineSchema(orderIdSchema),
};

function jsonBody(id: string, required = true): OpenApiOperation['requestBody'] {
  return { required, content: { 'application/json': { schema: ref(id) } } };
}

function answer(description: string, id: string, headers: Record<string, OpenApiHeader> = {}): OpenApiResponse {
  return {
    description,
    headers: { ...requestIdResponseHeader, ...headers },
    content: { 'application/json': { schema: ref(id) } },
  };
}

function problem(description: string): OpenApiResponse {
  return {
    description,
    headers: requestIdResponseHeader,
    content: { 'application/problem+json': { schema: ref('Problem') } },
  };
}

const locationHeader: Record<string, OpenApiHeader> = {
  Location: { description: "The order's URL: /orders/{orderId}.", schema: { type: 'string' } },
};

const replayedHeader: Record<string, OpenApiHeader> = {
  [idempotentReplayedHeader]: {
    description: 'Present (true) when this answers a repeat of an earlier request with the same key.',
    schema: { type: 'string', const: 'true' },
  },
};

/** What a client can do next with an order, from where an answer names it (a runtime expression to its id). */
function orderLinks(orderIdAt: string): Record<string, OpenApiLink> {
  const link = (operationId: string, description: string): OpenApiLink => ({
    operationId,
    parameters: { orderId: orderIdAt },
    description,
  });
  return {
    GetOrder: link('getOrder', "The order's saga state."),
    GetOrderEvents: link('getOrderEvents', "The order's history across the services."),
    CancelOrder: link('cancelOrder', 'Cancel the order.'),
    ApproveOrder: link('approveOrder', 'Approve the order, when it awaits approval (operators).'),
    RejectOrder: link('rejectOrder', 'Reject the order, when it awaits approval (operators).'),
    ResolveCompensation: link('resolveCompensation', 'Retry or resolve a compensation waiting for an operator.'),
  };
}

/** Every route can fail in ways no client can provoke on purpose; those answers share this shape. */
const otherProblems = problem(
  'Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent).',
);

const retryAfterHeader: Record<string, OpenApiHeader> = {
  'Retry-After': {
    description: `Seconds to wait before trying again (${retryAfterUnavailableSeconds}).`,
    required: true,
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
};

/** A 503 problem: the client may repeat the request after Retry-After. */
function unavailable(description: string): OpenApiResponse {
  const response = problem(description);
  return { ...response, headers: { ...response.headers, ...retryAfterHeader } };
}

const temporalUnavailable = unavailable('Temporal did not answer in time (5 s); try again shortly.');
const invalidBody = problem(
  'Invalid fields (`errors` names each one) or malformed JSON. The URL is not valid percent-encoding also answers 400.',
);
const bodyTooLarge = problem(`The request body is over ${requestBodyLimit}.`);
const notJson = problem('The body is not application/json (or not UTF-8).');
const orderNotFound = problem('No such order (also for an id that is not an order id).');

const keyDescription =
  'An API key; the API knows only its SHA-256 (API_KEYS). Not asked for when the API runs with API_AUTH=off ' +
  '(npm start).';
const securitySchemes: Record<string, OpenApiSecurityScheme> = {
  bearerKey: {
    type: 'http',
    scheme: 'bearer',
    description: `${keyDescription} Sent as \`Authorization: Bearer <key>\`.`,
  },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: apiKeyHeader, description: keyDescription },
};
/** Either way of sending the key. */
const keyRequired = Object.keys(securitySchemes).map((name) => ({ [name]: [] }));

const unauthenticated: OpenApiResponse = {
  ...problem('No API key, or one that is not configured.'),
  headers: {
    ...requestIdResponseHeader,
    'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string', const: 'Bearer' } },
  },
};

const tooManyRequests: OpenApiResponse = {
  ...problem(
    'Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a ' +
      'limited route carries RateLimit and RateLimit-Policy (IETF draft 8).',
  ),
  headers: {
    ...requestIdResponseHeader,
    'Retry-After': { description: 'Seconds until the limit resets.', schema: { type: 'string' } },
    RateLimit: {
      description: 'The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`.',
      schema: { type: 'string' },
    },
    'RateLimit-Policy': {
      description: 'The quota and its window, e.g. `"600-in-1min"; q=600; w=60`.',
      schema: { type: 'string' },
    },
  },
};

/** The answers of every order route that concern who calls and how often. */
function callerProblems(forbidden: string): Record<string, OpenApiResponse> {
  return { '401': unauthenticated, '403': problem(forbidden), '429': tooManyRequests };
}

function operatorAction(
  operationId: string,
  summary: string,
  description: string,
  body: string,
  conflict: string,
): OpenApiOperation {
  return {
    operationId,
    summary,
    description,
    tags: ['Operators'],
    parameters: [orderIdParameter, requestIdParameter],
    requestBody: jsonBody(body),
    security: keyRequired,
    responses: {
      '202': answer('Accepted: the order state right after the decision.', 'OrderState', locationHeader),
      '400': invalidBody,
      ...callerProblems("The key is a customer's: only operators take this decision."),
      '404': orderNotFound,
      '409': problem(conflict),
      '413': bodyTooLarge,
      '415': notJson,
      '503': temporalUnavailable,
      default: otherProblems,
    },
  };
}

function documentation(operationId: string, summary: string, contentTypes: string[]): OpenApiOperation {
  return {
    operationId,
    summary,
    tags: ['Documentation'],
    parameters: [requestIdParameter],
    responses: {
      '200': {
        description: summary,
        headers: requestIdResponseHeader,
        content: Object.fromEntries(contentTypes.map((type) => [type, { schema: {} }])),
      },
      '429': tooManyRequests,
      default: otherProblems,
    },
  };
}

function buildDocument(): OpenApiDocument {
  const { schemas: answerSchemas } = z.toJSONSchema(answers, { target, io: 'output', uri: componentUri });
  const { schemas: requestSchemas } = z.toJSONSchema(requests, { target, io: 'input', uri: componentUri });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Order saga API',
      version: packageJson.version,
      description:
        'Places orders that run as Temporal sagas, shows their state, and takes the decisions of customers and ' +
        'operators. Every error is RFC 9457 `application/problem+json`; every answer carries `X-Request-Id`. ' +
        'A path not listed here answers 404, a method not listed for a path 405 with `Allow` (both problem+json); a ' +
        "problem's `type` resolves, against the request's URL, to a page describing it (GET /problems/{type}); every " +
        "503 carries `Retry-After`. The order routes need an API key (a customer's acts " +
        "on that customer's orders only; an operator's on all, and takes the decisions) unless the API runs with " +
        'API_AUTH=off, as under `npm start`; health probes, metrics and this documentation are open.',
    },
    tags: [
      { name: 'Orders', description: 'Placing, watching and cancelling orders.' },
      { name: 'Operators', description: 'Decisions an operator takes on an order.' },
      { name: 'Health', description: 'Probes for orchestrators and load balancers.' },
      { name: 'Monitoring', description: 'Metrics for Prometheus.' },
      { name: 'Documentation', description: 'This document and its interactive page.' },
    ],
    paths: {
      '/orders': {
        get: {
          operationId: 'listOrders',
          summary: 'List orders (from the read model)',
          description:
            "Orders as the services' events describe them, newest first by default, a page at a time: pass the " +
            "answer's `nextCursor` as `cursor`, with the same filters, for the next page. The list follows the " +
            'services within a moment (GET /health/projection says how far behind it is): a just-placed order is ' +
            'read from GET /orders/{orderId} until it appears here. A customer key must filter by its own customerId.',
          tags: ['Orders'],
          parameters: [...listQueryParameters(), requestIdParameter],
          security: keyRequired,
          responses: {
            '200': {
              ...answer('A page of orders.', 'OrderList'),
              links: orderLinks('$response.body#/orders/0/orderId'),
            },
            '400': problem('An unknown or invalid parameter, or a cursor that is malformed or from another query.'),
            ...callerProblems("A customer's key without its own customerId as filter."),
            default: otherProblems,
          },
        },
        post: {
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
            requestIdParameter,
          ],
          requestBody: jsonBody('OrderRequest'),
          security: keyRequired,
          responses: {
            '201': {
              ...answer('Created: the saga accepted the order; its state at that moment.', 'OrderCreated', {
                ...locationHeader,
                ...replayedHeader,
              }),
              links: orderLinks('$response.body#/orderId'),
            },
            '202': {
              ...answer(
                'Accepted: the order runs. Asked for with `Prefer: respond-async` (then `Preference-Applied: ' +
                  'respond-async` is set), or the acceptance took longer than the API waits.',
                'OrderAccepted',
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
            default: otherProblems,
          },
        },
      },
      '/orders/{orderId}': {
        get: {
          operationId: 'getOrder',
          summary: "The order's saga state",
          tags: ['Orders'],
          parameters: [orderIdParameter, requestIdParameter],
          security: keyRequired,
          responses: {
            '200': answer("The order's state.", 'OrderState'),
            '400': problem('The URL is not valid percent-encoding.'),
            ...callerProblems("A customer's key reading another customer's order."),
            '404': orderNotFound,
            '503': temporalUnavailable,
            default: otherProblems,
          },
        },
      },
      '/orders/{orderId}/events': {
        get: {
          operationId: 'getOrderEvents',
          summary: "The order's history across the four services (from the read model)",
          description:
            'Every domain event of the order, from every service, in order: each aggregate by its version, ' +
            'aggregates merged by time. Older event versions are upcast to the current schema.',
          tags: ['Orders'],
          parameters: [orderIdParameter, requestIdParameter],
          security: keyRequired,
          responses: {
            '200': answer('The events.', 'OrderHistory'),
            ...callerProblems("A customer's key reading another customer's order."),
            '404': problem('No events of this order (unknown, or not yet projected).'),
            default: otherProblems,
          },
        },
      },
      '/orders/{orderId}/cancel': {
        post: {
          operationId: 'cancelOrder',
          summary: 'Cancel an order',
          description:
            'The body is optional; without one the reason is "Cancelled by the customer". The step in flight ' +
            'finishes, then every completed step is compensated in reverse order; the answer waits a few seconds ' +
            'for that to end.',
          tags: ['Orders'],
          parameters: [orderIdParameter, requestIdParameter],
          requestBody: jsonBody('CancelRequest', false),
          security: keyRequired,
          responses: {
            '200': answer(
              'Cancelled: the final state, `compensations` listing what was undone (or `needs-attention` when a ' +
                'compensation waits for an operator).',
              'OrderState',
              locationHeader,
            ),
            '202': answer(
              'Cancellation accepted but not finished within the wait: the state so far; GET the order to follow it.',
              'OrderState',
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
            default: otherProblems,
          },
        },
      },
      '/orders/{orderId}/approve': {
        post: operatorAction(
          'approveOrder',
          'Approve an order awaiting approval',
          'Orders over the approval threshold wait for this decision before payment.',
          'ApprovalDecision',
          'The order is not awaiting approval.',
        ),
      },
      '/orders/{orderId}/reject': {
        post: operatorAction(
          'rejectOrder',
          'Reject an order awaiting approval',
          'The order is compensated and ends failed (ApprovalRejected).',
          'ApprovalDecision',
          'The order is not awaiting approval.',
        ),
      },
      '/orders/{orderId}/compensation': {
        post: operatorAction(
          'resolveCompensation',
          'Retry or resolve a failed compensation',
          'A compensation whose retries ran out waits for an operator (status needs-attention).',
          'CompensationResolution',
          'No compensation waits for an operator.',
        ),
      },
      '/health/live': {
        get: {
          operationId: 'liveness',
          summary: 'Liveness: 200 while the process runs',
          tags: ['Health'],
          parameters: [requestIdParameter],
          responses: { '200': answer('The process runs.', 'Liveness'), default: otherProblems },
        },
      },
      '/health/ready': {
        get: {
          operationId: 'readiness',
          summary: 'Readiness: Temporal and the four databases answer',
          tags: ['Health'],
          parameters: [requestIdParameter],
          responses: {
            '200': answer('Every dependency answers.', 'Readiness'),
            '503': answer('A dependency does not answer; `checks` names it and why.', 'Readiness', retryAfterHeader),
            default: otherProblems,
          },
        },
      },
      '/health/projection': {
        get: {
          operationId: 'projectionLag',
          summary: 'How far the read model is behind the services',
          tags: ['Health'],
          parameters: [requestIdParameter],
          responses: {
            '200': answer('The lag, and per service the events waiting or parked.', 'ProjectionLag'),
            default: otherProblems,
          },
        },
      },
      [metricsPath]: {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics of the API process',
          description:
            'Prometheus text format 0.0.4: request durations by route, orders that need attention, the projection ' +
            "lag and the process's own figures. Open like the health probes (a scraper carries no API key) and not " +
            'rate-limited: expose the API only where that is acceptable (API_HOST).',
          tags: ['Monitoring'],
          parameters: [requestIdParameter],
          responses: {
            '200': {
              description: 'The current values of every series.',
              headers: requestIdResponseHeader,
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            default: otherProblems,
          },
        },
      },
      [`${problemTypesPath}/{type}`]: {
        get: {
          ...documentation('problemType', 'What a problem type means: the page its `type` resolves to', ['text/html']),
          parameters: [
            {
              name: 'type',
              in: 'path',
              description: "The last segment of a problem's `type`.",
              required: true,
              schema: { enum: Object.keys(problemTypes) },
            },
            requestIdParameter,
          ],
        },
      },
      [openApiPath]: { get: documentation('openApiDocument', 'This OpenAPI 3.1 document', ['application/json']) },
      [docsPath]: { get: documentation('docsPage', 'Interactive documentation (Swagger UI)', ['text/html']) },
      [docsInitializerPath]: {
        get: documentation('docsInitializer', "The docs page's script: loads this document", ['text/javascript']),
      },
      [`${docsAssetsPath}/{asset}`]: {
        get: {
          ...documentation('docsAsset', "Swagger UI's files, served from the API itself", [
            'text/css',
            'text/javascript',
            'image/png',
          ]),
          parameters: [
            {
              name: 'asset',
              in: 'path',
              description: 'A file of Swagger UI.',
              required: true,
              schema: { enum: docsAssets },
            },
            requestIdParameter,
          ],
        },
      },
    },
    components: {
      schemas: { ...asComponents(answerSchemas), ...asComponents(requestSchemas) },
      securitySchemes,
    },
  };
}

export const openApiDocument: OpenApiDocument = buildDocument();

const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const docsPage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${openApiDocument.info.title}</title>
    <link rel="stylesheet" href="${docsAssetsPath}/swagger-ui.css" />
    <link rel="icon" type="image/png" href="${docsAssetsPath}/favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="${docsAssetsPath}/favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${docsAssetsPath}/swagger-ui-bundle.js"></script>
    <script src="${docsInitializerPath}"></script>
  </body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to an online validator.
const docsInitializer = `window.ui = SwaggerUIBundle(${JSON.stringify({
  url: openApiPath,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
})});
`;

/** The page may load only what the API serves, so the docs work offline and leak nothing to third parties. */
const docsContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

/** GET /openapi.json and the docs page with its assets. */
export function openApiRouter(): Router {
  const router = Router();
  router.get(openApiPath, (_request, response) => {
    response.json(openApiDocument);
  });
  router.get(docsPath, (_request, response) => {
    response.setHeader('Content-Security-Policy', docsContentSecurityPolicy);
    response.type('html').send(docsPage);
  });
  router.get(docsInitializerPath, (_request, response) => {
    response.type('text/javascript').send(docsInitializer);
  });
  router.get(`${docsAssetsPath}/:asset`, (request, response, next) => {
    const asset = docsAssets.find((name) => name === request.params.asset);
    if (!asset) {
      next();
      return;
    }
    response.sendFile(asset, { root: swaggerUiDir, maxAge: '1h' }, (error) => {
      if (error) next(error);
    });
  });
  return router;
}
