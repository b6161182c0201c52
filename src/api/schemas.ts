import { z } from 'zod';
import { orderRequestSchema } from '../domain/order';
import { compensationNames, orderSteps, type OrderSagaState } from '../workflows/definitions';
import { orderViewStatuses, paymentStatuses, reservationStatuses, shipmentStatuses } from '../read-model/fold';
import { orderListPageSize, orderListSorts, type OrderView } from '../read-model/queries';
import { orderIdPattern } from '../temporal/order-ids';
import { blankProblemType, problemTypes, problemTypesPath } from './problem-types';

/**
 * The API's contract as zod schemas: the requests it validates and the
 * answers it sends. src/api/openapi.ts turns them into the OpenAPI document,
 * so what is validated and what is documented cannot differ.
 */

export { orderRequestSchema };

// ---- Requests ----

/** Orders are small; a body larger than this is a mistake or an attack (413). */
export const requestBodyLimit = '32kb';

/** POST /orders' request header that names the order, and the answer header that marks a repeat. */
export const idempotencyKeyHeader = 'Idempotency-Key';
export const idempotentReplayedHeader = 'Idempotent-Replayed';

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .meta({
    description:
      "Identifies this order request among its customer's: the order id is derived from the key and the customer. " +
      'A repeat with the same key and body gets the first answer again; the same key with another body is refused ' +
      '(422). Use a new key for each new order.',
    examples: ['3f1c2a9e-7b1d-4e0a-9c55-2f7a1d0e6b42'],
  });

/** Order ids look like ord_ followed by 24 hex digits; anything else is an unknown order (404). */
export { orderIdPattern };

export const orderIdSchema = z
  .string()
  .regex(orderIdPattern)
  .meta({
    description: 'The order id from the 202 answer of POST /orders. An id of another shape is an unknown order (404).',
    examples: ['ord_5d41402abc4b2a76b9719d91'],
  });

/**
 * A character String.prototype.trim keeps: anything but ECMAScript white space and line terminators. Spelled out
 * rather than `\S`, whose meaning differs between regex engines (Python's counts U+001C–U+001F as space, not U+FEFF),
 * so a client that generates from the document's pattern sends what the API keeps.
 */
const notTrimmed = /[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/** Text that must say something: trimmed, and not blank (the pattern says so to clients). */
function someText(max: number) {
  return z.string().trim().min(1).max(max).regex(notTrimmed, 'must not be blank');
}

export const cancelSchema = z.strictObject({
  reason: someText(500).default('Cancelled by the customer'),
});
export type CancelRequest = z.infer<typeof cancelSchema>;

export const decisionSchema = z.strictObject({
  decidedBy: someText(100),
  comment: z.string().trim().max(500).optional(),
});
export type ApprovalDecision = z.infer<typeof decisionSchema>;

export const resolutionSchema = z.strictObject({
  action: z.enum(['retry', 'mark-resolved']).meta({
    description: 'retry: run the failed compensation again; mark-resolved: it was done by hand.',
  }),
  note: someText(1000),
});
export type CompensationResolution = z.infer<typeof resolutionSchema>;

// ---- Answers ----

export const orderAcceptedSchema = z.object({
  orderId: z.string(),
  workflowId: z.string().meta({ description: "The order's workflow id in Temporal (open it in the Web UI)." }),
  links: z.object({ self: z.string().meta({ description: "The order's URL, as in the Location header." }) }),
});
export type OrderAccepted = z.infer<typeof orderAcceptedSchema>;

const orderStepSchema = z.enum(orderSteps);

export const shippingRateSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('carrier-quote'), amountCents: z.int(), quoteId: z.string(), service: z.string() }),
  z.object({ source: z.literal('flat-rate'), amountCents: z.int(), reason: z.string() }),
]);

export const compensationRecordSchema = z.object({
  step: orderStepSchema,
  compensation: z.enum(compensationNames),
  status: z.enum(['pending', 'running', 'completed', 'failed', 'resolved-manually']),
  runs: z.int().meta({ description: 'How many times the compensation was run.' }),
  lastError: z.string().optional(),
  operatorNote: z.string().optional(),
});

export const orderFailureSchema = z.object({
  step: orderStepSchema,
  type: z.string().meta({
    description:
      'A rejection type (e.g. PaymentDeclined), OrderCancelled, StepDeadlineExceeded (a step waited past its ' +
      'business deadline), or StepFailed (a non-retryable failure that is not a business answer).',
  }),
  message: z.string(),
});

export const stepWaitSchema = z.object({
  step: orderStepSchema,
  since: z.string().meta({ description: 'When the step began to wait (ISO 8601).' }),
  reason: z.string().meta({ description: 'The last transient failure.' }),
  rounds: z.int().meta({ description: 'Rounds of retries that ended without an answer so far.' }),
  deadline: z.string().nullable().meta({
    description: 'When the order fails if the step still has no answer (ISO 8601); null for the confirmation.',
  }),
});

/** The saga's state, as the workflow's query and updates return it (OrderSagaState). */
export const orderStateSchema = z.object({
  orderId: z.string(),
  status: z.enum([
    'running',
    'awaiting-approval',
    'compensating',
    'needs-attention',
    'confirmed',
    'cancelled',
    'failed',
  ]),
  currentStep: orderStepSchema.nullable(),
  completedSteps: z.array(orderStepSchema),
  compensations: z.array(compensationRecordSchema),
  totalCents: z.int().nullable(),
  paymentId: z.string().nullable(),
  shipmentId: z.string().nullable(),
  trackingNumber: z.string().nullable(),
  shippingRate: shippingRateSchema.nullable(),
  failure: orderFailureSchema.nullable(),
  cancellationReason: z.string().nullable(),
  waiting: stepWaitSchema.nullable().meta({
    description:
      'Set while the current step waits out transient trouble (a partner down, no worker, back-pressure): the order ' +
      'is delayed, not failing. Null once the step has an answer.',
  }),
});

/** 201 of POST /orders: the order accepted, with the saga's state at that moment. */
export const orderCreatedSchema = orderAcceptedSchema.extend({
  state: orderStateSchema.meta({
    description:
      'The saga when it accepted the order: created and stock reserved (status running), or awaiting approval.',
  }),
});
export type OrderCreated = z.infer<typeof orderCreatedSchema>;

/**
 * True only when A and B are the same type. Mutual assignability alone would
 * let an optional field exist on one side only; this compares the types as
 * the compiler's own identity check does.
 */
type Identical<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

/**
 * Fails to compile if the schema and the workflow's OrderSagaState drift apart
 * (the workflow cannot import zod, so the schema mirrors its interface).
 */
export type OrderStateSchemaMirrorsWorkflow = Assert<Identical<z.infer<typeof orderStateSchema>, OrderSagaState>>;

// ---- The read model (GET /orders, GET /orders/{id}/events) ----

/** The form of the order list's cursors (src/read-model/cursor.ts): `<base64url JSON>.<16 base64url characters>`. */
export const orderListCursorPattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/;

/** GET /orders' query string: filters, sort and page. Unknown parameters are refused (400). */
export const orderListQuerySchema = z.strictObject({
  status: z.enum(orderViewStatuses).optional(),
  customerId: z.string().min(1).max(100).optional().meta({
    description: "Only this customer's orders. A customer's key must give its own customerId.",
  }),
  createdFrom: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created at or after (ISO 8601).' }),
  createdTo: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created before (ISO 8601).' }),
  sort: z.enum(orderListSorts).default('createdAt:desc'),
  limit: z.coerce.number().int().min(1).max(orderListPageSize.max).default(orderListPageSize.default),
  cursor: z
    .string()
    .max(1000)
    .regex(orderListCursorPattern)
    .optional()
    .meta({
      description:
        "The previous page's nextCursor, as it came (base64url, a dot, 16 base64url check characters); the same " +
        'filters and sort must be sent with it. A cursor of this form that the API did not issue for this query ' +
        '(its check does not match) is refused with 400.',
    }),
});

export const orderViewSchema = z.object({
  orderId: z.string(),
  workflowId: z.string(),
  status: z.enum(orderViewStatuses).meta({
    description:
      "From the services' events: pending (not confirmed or cancelled yet), compensating (something was undone), " +
      'confirmed or cancelled. The saga-only states (awaiting approval, needs attention) are in GET /orders/{id}.',
  }),
  customerId: z.string().nullable(),
  currency: z.string().nullable(),
  items: z.array(z.object({ sku: z.string(), quantity: z.int(), unitPriceCents: z.int().nullable() })),
  itemCount: z.int(),
  totalCents: z.int().nullable(),
  reservationId: z.string().nullable(),
  reservationStatus: z.enum(reservationStatuses).nullable(),
  paymentId: z.string().nullable(),
  paymentStatus: z.enum(paymentStatuses).nullable(),
  paymentAmountCents: z.int().nullable(),
  declineReason: z.string().nullable(),
  shipmentId: z.string().nullable(),
  shipmentStatus: z.enum(shipmentStatuses).nullable(),
  carrier: z.string().nullable(),
  trackingNumber: z.string().nullable(),
  shippingCents: z.int().nullable(),
  shippingRateSource: z.string().nullable(),
  stockReleased: z.boolean(),
  paymentRefunded: z.boolean(),
  shipmentCancelled: z.boolean(),
  cancelReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastEventId: z.string(),
  lastEventType: z.string(),
  lastAggregateVersion: z.int(),
  eventCount: z.int(),
});

/** Fails to compile if the answer's schema and the read model's OrderView drift apart. */
export type OrderViewSchemaMirrorsReadModel = Assert<Identical<z.infer<typeof orderViewSchema>, OrderView>>;

export const orderListSchema = z.object({
  orders: z.array(orderViewSchema),
  nextCursor: z.string().nullable().meta({ description: 'Null on the last page.' }),
});

export const orderEventSchema = z.object({
  id: z.string().meta({ description: 'A ULID.' }),
  type: z.string(),
  schemaVersion: z.int().meta({ description: "Always the catalogue's current version: older events are upcast." }),
  aggregateType: z.string(),
  aggregateId: z.string(),
  aggregateVersion: z.int(),
  correlation: z.object({ orderId: z.string(), workflowId: z.string() }),
  occurredAt: z.string(),
  payload: z.record(z.string(), z.unknown()),
});

export const orderHistorySchema = z.object({
  orderId: z.string(),
  events: z.array(orderEventSchema),
});

export const projectionLagSchema = z.object({
  lagMs: z.int().meta({ description: 'Age of the oldest event not yet delivered to the read model; 0 when none.' }),
  byService: z.record(
    z.string(),
    z.object({ pendingEvents: z.int(), parkedEvents: z.int(), oldestPendingAt: z.string().nullable() }),
  ),
});

export const livenessSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.array(
    z.discriminatedUnion('status', [
      z.object({ name: z.string(), status: z.literal('ok') }),
      z.object({ name: z.string(), status: z.literal('unavailable'), error: z.string() }),
    ]),
  ),
});
export type Readiness = z.infer<typeof readinessSchema>;

export const fieldErrorSchema = z.object({
  field: z.string().meta({
    description: 'A path into the request body (e.g. items.0.quantity), (body), or a header name.',
  }),
  message: z.string(),
});

/** RFC 9457 problem details, the body of every error answer (src/api/problem.ts writes it). */
export const problemSchema = z.object({
  type: z.enum([...Object.keys(problemTypes).map((slug) => `${problemTypesPath}/${slug}`), blankProblemType]).meta({
    description:
      "A relative reference naming the problem, e.g. /problems/idempotency-key-reused: resolved against the request's " +
      'URL, it is a page of this API describing the problem (GET /problems/{type}). about:blank for a problem its ' +
      'status code describes.',
  }),
  title: z.string(),
  status: z.int().min(400).max(599),
  detail: z.string(),
  instance: z.string().meta({ description: "The request's path." }),
  requestId: z.string().meta({ description: 'The X-Request-Id of the request, to quote when asking for help.' }),
  errors: z.array(fieldErrorSchema).optional().meta({ description: 'One entry per invalid field or header.' }),
  state: orderStateSchema.optional().meta({
    description: "The order's state, when the problem is about the order: rejected when placed, or already finished.",
  }),
});
