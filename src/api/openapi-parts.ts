import { z } from 'zod';
import { apiKeyHeader } from './auth';
import { retryAfterUnavailableSeconds } from './problem';
import { requestIdHeader } from './request-id';
import {
  cancelSchema,
  compensationRecordSchema,
  decisionSchema,
  fieldErrorSchema,
  idempotentReplayedHeader,
  livenessSchema,
  orderAcceptedSchema,
  orderCreatedSchema,
  orderEventSchema,
  orderFailureSchema,
  orderHistorySchema,
  orderIdSchema,
  orderListQuerySchema,
  orderListSchema,
  orderRequestSchema,
  orderStateSchema,
  orderViewSchema,
  problemSchema,
  projectionLagSchema,
  readinessSchema,
  requestBodyLimit,
  resolutionSchema,
  shippingRateSchema,
} from './schemas';

/**
 * The parts of the OpenAPI 3.1 document the route table (src/api/routes.ts) is written with: its types, the named
 * schemas (components, from the zod schemas the routes validate with) and the parameters and answers many routes
 * share.
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
  /** Alternatives: any one of them suffices. Absent: the route is open. */
  security?: Record<string, string[]>[];
  responses: Record<string, OpenApiResponse>;
}

export type OpenApiSecurityScheme =
  | { type: 'http'; scheme: 'bearer'; description: string }
  | { type: 'apiKey'; in: 'header'; name: string; description: string };

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<'get' | 'post', OpenApiOperation>>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, OpenApiSecurityScheme> };
}

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

/** Request bodies' names, by the schema a route declares (and validates with). */
const requestBodies = new Map<z.ZodType, string>([
  [orderRequestSchema, 'OrderRequest'],
  [cancelSchema, 'CancelRequest'],
  [decisionSchema, 'ApprovalDecision'],
  [resolutionSchema, 'CompensationResolution'],
]);

const requests = z.registry<{ id: string }>();
for (const [schema, id] of requestBodies) {
  // Its refinement (no sku twice) has no JSON Schema equivalent; the description states it.
  const described =
    schema === orderRequestSchema
      ? schema.meta({ description: 'An order. Each sku may appear only once in items; raise its quantity instead.' })
      : schema;
  requests.add(described, { id });
}

const componentUri = (id: string) => `#/components/schemas/${id}`;

const ref = (id: string): JsonSchema => ({ $ref: componentUri(id) });

/** Each component is a subschema of the document: its own $schema and $id (a fragment) do not belong there. */
function asComponents(schemas: Record<string, JsonSchema>): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]),
  );
}

/** The document's named schemas: the answers', then the request bodies'. */
export function componentSchemas(): Record<string, JsonSchema> {
  const { schemas: answerSchemas } = z.toJSONSchema(answers, { target, io: 'output', uri: componentUri });
  const { schemas: requestSchemas } = z.toJSONSchema(requests, { target, io: 'input', uri: componentUri });
  return { ...asComponents(answerSchemas), ...asComponents(requestSchemas) };
}

/** A JSON request body validated by `schema`, by its component's name. */
export function jsonBody(schema: z.ZodType, required: boolean): OpenApiOperation['requestBody'] {
  const id = requestBodies.get(schema);
  if (!id) throw new Error('a route declares a request body the document does not name (openapi-parts.ts)');
  return { required, content: { 'application/json': { schema: ref(id) } } };
}

export function inlineSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target, io: 'input' }) as JsonSchema;
  return json;
}

export const requestIdResponseHeader: Record<string, OpenApiHeader> = {
  [requestIdHeader]: {
    description: "The request's id: the client's own if acceptable, else a new UUID.",
    schema: { type: 'string' },
  },
};

/** The parameter every route takes. */
export const requestIdParameter: OpenApiParameter = {
  name: requestIdHeader,
  in: 'header',
  description:
    'Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a ' +
    'UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run.',
  required: false,
  schema: { type: 'string' },
};

/** GET /orders' query parameters, one per field of the schema that validates them. */
export function listQueryParameters(): OpenApiParameter[] {
  const { properties = {} } = inlineSchema(orderListQuerySchema) as { properties?: Record<string, JsonSchema> };
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query' as const,
    description: typeof schema.description === 'string' ? schema.description : name,
    required: false,
    schema,
  }));
}

export const orderIdParameter: OpenApiParameter = {
  name: 'orderId',
  in: 'path',
  description: 'The order id from the answer of POST /orders.',
  required: true,
  schema: inlineSchema(orderIdSchema),
};

/** A path parameter that takes one of `values`. */
export function pathEnum(name: string, description: string, values: readonly string[]): OpenApiParameter {
  return { name, in: 'path', description, required: true, schema: { enum: values } };
}

/** A JSON answer whose body `schema` (a named one) describes. */
export function answer(
  description: string,
  schema: z.ZodType,
  headers: Record<string, OpenApiHeader> = {},
): OpenApiResponse {
  const id = answers.get(schema)?.id;
  if (!id) throw new Error('a route answers with a schema the document does not name (openapi-parts.ts)');
  return {
    description,
    headers: { ...requestIdResponseHeader, ...headers },
    content: { 'application/json': { schema: ref(id) } },
  };
}

/** An answer that is no JSON: a page, a script, a file of Swagger UI, the metrics. */
export function content(description: string, contentTypes: string[], schema: JsonSchema = {}): OpenApiResponse {
  return {
    description,
    headers: requestIdResponseHeader,
    content: Object.fromEntries(contentTypes.map((type) => [type, { schema }])),
  };
}

export function problem(description: string): OpenApiResponse {
  return {
    description,
    headers: requestIdResponseHeader,
    content: { 'application/problem+json': { schema: ref('Problem') } },
  };
}

export const locationHeader: Record<string, OpenApiHeader> = {
  Location: { description: "The order's URL: /orders/{orderId}.", schema: { type: 'string' } },
};

export const replayedHeader: Record<string, OpenApiHeader> = {
  [idempotentReplayedHeader]: {
    description: 'Present (true) when this answers a repeat of an earlier request with the same key.',
    schema: { type: 'string', const: 'true' },
  },
};

/** What a client can do next with an order, from where an answer names it (a runtime expression to its id). */
export function orderLinks(orderIdAt: string): Record<string, OpenApiLink> {
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
export const otherProblems = problem(
  'Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent).',
);

export const retryAfterHeader: Record<string, OpenApiHeader> = {
  'Retry-After': {
    description: `Seconds to wait before trying again (${retryAfterUnavailableSeconds}).`,
    required: true,
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
};

/** A 503 problem: the client may repeat the request after Retry-After. */
export function unavailable(description: string): OpenApiResponse {
  const response = problem(description);
  return { ...response, headers: { ...response.headers, ...retryAfterHeader } };
}

export const temporalUnavailable = unavailable('Temporal did not answer in time (5 s); try again shortly.');
export const invalidBody = problem(
  'Invalid fields (`errors` names each one) or malformed JSON. The URL is not valid percent-encoding also answers 400.',
);
export const bodyTooLarge = problem(`The request body is over ${requestBodyLimit}.`);
export const notJson = problem('The body is not application/json (or not UTF-8).');
export const orderNotFound = problem('No such order (also for an id that is not an order id).');

const keyDescription =
  'An API key; the API knows only its SHA-256 (API_KEYS). Not asked for when the API runs with API_AUTH=off ' +
  '(npm start).';
export const securitySchemes: Record<string, OpenApiSecurityScheme> = {
  bearerKey: {
    type: 'http',
    scheme: 'bearer',
    description: `${keyDescription} Sent as \`Authorization: Bearer <key>\`.`,
  },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: apiKeyHeader, description: keyDescription },
};
/** Either way of sending the key. */
export const keyRequired = Object.keys(securitySchemes).map((name) => ({ [name]: [] }));

const unauthenticated: OpenApiResponse = {
  ...problem('No API key, or one that is not configured.'),
  headers: {
    ...requestIdResponseHeader,
    'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string', const: 'Bearer' } },
  },
};

export const tooManyRequests: OpenApiResponse = {
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
export function callerProblems(forbidden: string): Record<string, OpenApiResponse> {
  return { '401': unauthenticated, '403': problem(forbidden), '429': tooManyRequests };
}
