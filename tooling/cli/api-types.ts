/**
 * The API's types, generated from openapi.json by openapi-typescript: do not edit, run `npm run openapi:write`.
 */
export interface paths {
  '/orders': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List orders (from the read model)
     * @description Orders as the services' events describe them, newest first by default, a page at a time: pass the answer's `nextCursor` as `cursor`, with the same filters, for the next page. The list follows the services within a moment (GET /health/projection says how far behind it is): a just-placed order is read from GET /orders/{orderId} until it appears here. A customer key must filter by its own customerId.
     */
    get: operations['listOrders'];
    put?: never;
    /**
     * Place an order
     * @description Starts the order saga and, by default, answers once the saga has accepted the order (order row created, stock reserved; it may then await approval): 201 with its state, while payment and shipping go on. An order refused at that point (out of stock, unknown sku, blocked customer) answers 422 with the reason, after every step taken was compensated. If the acceptance takes longer than a few seconds (a step retrying), the answer is 202 and the order goes on; so is the answer to `Prefer: respond-async`, which does not wait at all. The Idempotency-Key and the order's customer (for a customer's API key, the caller) determine the order id: two customers sending the same key place two orders, and neither learns of the other's. A repeat by the same customer with the same body (also concurrent, also after the order finished) gets the same answer with `Idempotent-Replayed: true`, and starts nothing; one with another body is refused (422). Bodies are compared after validation, so key order and whitespace do not matter. A key is remembered as long as the order's run is retained in Temporal.
     */
    post: operations['placeOrder'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/orders/{orderId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The order's saga state */
    get: operations['getOrder'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/orders/{orderId}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The order's history across the four services (from the read model)
     * @description Every domain event of the order, from every service, in order: each aggregate by its version, aggregates merged by time. Older event versions are upcast to the current schema.
     */
    get: operations['getOrderEvents'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/orders/{orderId}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Cancel an order
     * @description The body is optional; without one the reason is "Cancelled by the customer". The step in flight finishes, then every completed step is compensated in reverse order; the answer waits a few seconds for that to end.
     */
    post: operations['cancelOrder'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/orders/{orderId}/approve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Approve an order awaiting approval
     * @description Orders over the approval threshold wait for this decision before payment.
     */
    post: operations['approveOrder'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/orders/{orderId}/reject': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Reject an order awaiting approval
     * @description The order is compensated and ends failed (ApprovalRejected).
     */
    post: operations['rejectOrder'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/orders/{orderId}/compensation': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Retry or resolve a failed compensation
     * @description A compensation whose retries ran out waits for an operator (status needs-attention).
     */
    post: operations['resolveCompensation'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/live': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness: 200 while the process runs */
    get: operations['liveness'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/ready': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Readiness: Temporal and the four databases answer */
    get: operations['readiness'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/projection': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** How far the read model is behind the services */
    get: operations['projectionLag'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Prometheus metrics of the API process
     * @description Prometheus text format 0.0.4: request durations by route, orders that need attention, the projection lag and the process's own figures. Open like the health probes (a scraper carries no API key) and not rate-limited: expose the API only where that is acceptable (API_HOST).
     */
    get: operations['metrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/problems/{type}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** What a problem type means: the page its `type` resolves to */
    get: operations['problemType'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This OpenAPI 3.1 document */
    get: operations['openApiDocument'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/docs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Interactive documentation (Swagger UI) */
    get: operations['docsPage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/docs/init.js': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The docs page's script: loads this document */
    get: operations['docsInitializer'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/docs/assets/{asset}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Swagger UI's files, served from the API itself */
    get: operations['docsAsset'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    OrderAccepted: {
      orderId: string;
      /** @description The order's workflow id in Temporal (open it in the Web UI). */
      workflowId: string;
      links: {
        /** @description The order's URL, as in the Location header. */
        self: string;
      };
    };
    OrderCreated: {
      orderId: string;
      /** @description The order's workflow id in Temporal (open it in the Web UI). */
      workflowId: string;
      links: {
        /** @description The order's URL, as in the Location header. */
        self: string;
      };
      /** @description The saga when it accepted the order: created and stock reserved (status running), or awaiting approval. */
      state: components['schemas']['OrderState'];
    };
    OrderState: {
      orderId: string;
      /** @enum {string} */
      status:
        'running' | 'awaiting-approval' | 'compensating' | 'needs-attention' | 'confirmed' | 'cancelled' | 'failed';
      currentStep:
        | ('create-order' | 'reserve-stock' | 'await-approval' | 'charge-payment' | 'create-shipment' | 'confirm-order')
        | null;
      completedSteps: (
        'create-order' | 'reserve-stock' | 'await-approval' | 'charge-payment' | 'create-shipment' | 'confirm-order'
      )[];
      compensations: components['schemas']['CompensationRecord'][];
      totalCents: number | null;
      paymentId: string | null;
      shipmentId: string | null;
      trackingNumber: string | null;
      shippingRate: components['schemas']['ShippingRate'] | null;
      failure: components['schemas']['OrderFailure'] | null;
      cancellationReason: string | null;
      /** @description Set while the current step waits out transient trouble (a partner down, no worker, back-pressure): the order is delayed, not failing. Null once the step has an answer. */
      waiting: {
        /** @enum {string} */
        step:
          'create-order' | 'reserve-stock' | 'await-approval' | 'charge-payment' | 'create-shipment' | 'confirm-order';
        /** @description When the step began to wait (ISO 8601). */
        since: string;
        /** @description The last transient failure. */
        reason: string;
        /** @description Rounds of retries that ended without an answer so far. */
        rounds: number;
        /** @description When the order fails if the step still has no answer (ISO 8601); null for the confirmation. */
        deadline: string | null;
      } | null;
    };
    CompensationRecord: {
      /** @enum {string} */
      step:
        'create-order' | 'reserve-stock' | 'await-approval' | 'charge-payment' | 'create-shipment' | 'confirm-order';
      /** @enum {string} */
      compensation: 'cancel-order' | 'release-stock' | 'refund-payment' | 'cancel-shipment';
      /** @enum {string} */
      status: 'pending' | 'running' | 'completed' | 'failed' | 'resolved-manually';
      /** @description How many times the compensation was run. */
      runs: number;
      lastError?: string;
      operatorNote?: string;
    };
    OrderFailure: {
      /** @enum {string} */
      step:
        'create-order' | 'reserve-stock' | 'await-approval' | 'charge-payment' | 'create-shipment' | 'confirm-order';
      /** @description A rejection type (e.g. PaymentDeclined), OrderCancelled, StepDeadlineExceeded (a step waited past its business deadline), or StepFailed (a non-retryable failure that is not a business answer). */
      type: string;
      message: string;
    };
    ShippingRate:
      | {
          /** @constant */
          source: 'carrier-quote';
          amountCents: number;
          quoteId: string;
          service: string;
        }
      | {
          /** @constant */
          source: 'flat-rate';
          amountCents: number;
          reason: string;
        };
    OrderView: {
      orderId: string;
      workflowId: string;
      /**
       * @description From the services' events: pending (not confirmed or cancelled yet), compensating (something was undone), confirmed or cancelled. The saga-only states (awaiting approval, needs attention) are in GET /orders/{id}.
       * @enum {string}
       */
      status: 'pending' | 'compensating' | 'confirmed' | 'cancelled';
      customerId: string | null;
      currency: string | null;
      items: {
        sku: string;
        quantity: number;
        unitPriceCents: number | null;
      }[];
      itemCount: number;
      totalCents: number | null;
      reservationId: string | null;
      reservationStatus: ('reserved' | 'committed' | 'released') | null;
      paymentId: string | null;
      paymentStatus: ('charged' | 'declined' | 'refunded') | null;
      paymentAmountCents: number | null;
      declineReason: string | null;
      shipmentId: string | null;
      shipmentStatus: ('created' | 'cancelled') | null;
      carrier: string | null;
      trackingNumber: string | null;
      shippingCents: number | null;
      shippingRateSource: string | null;
      stockReleased: boolean;
      paymentRefunded: boolean;
      shipmentCancelled: boolean;
      cancelReason: string | null;
      createdAt: string;
      updatedAt: string;
      lastEventId: string;
      lastEventType: string;
      lastAggregateVersion: number;
      eventCount: number;
    };
    OrderList: {
      orders: components['schemas']['OrderView'][];
      /** @description Null on the last page. */
      nextCursor: string | null;
    };
    OrderEvent: {
      /** @description A ULID. */
      id: string;
      type: string;
      /** @description Always the catalogue's current version: older events are upcast. */
      schemaVersion: number;
      aggregateType: string;
      aggregateId: string;
      aggregateVersion: number;
      correlation: {
        orderId: string;
        workflowId: string;
      };
      occurredAt: string;
      payload: {
        [key: string]: unknown;
      };
    };
    OrderHistory: {
      orderId: string;
      events: components['schemas']['OrderEvent'][];
    };
    ProjectionLag: {
      /** @description Age of the oldest event not yet delivered to the read model; 0 when none. */
      lagMs: number;
      byService: {
        [key: string]: {
          pendingEvents: number;
          parkedEvents: number;
          oldestPendingAt: string | null;
        };
      };
    };
    Liveness: {
      /** @constant */
      status: 'ok';
    };
    Readiness: {
      /** @enum {string} */
      status: 'ready' | 'not ready';
      checks: (
        | {
            name: string;
            /** @constant */
            status: 'ok';
          }
        | {
            name: string;
            /** @constant */
            status: 'unavailable';
            error: string;
          }
      )[];
    };
    Problem: {
      /**
       * @description A relative reference naming the problem, e.g. /problems/idempotency-key-reused: resolved against the request's URL, it is a page of this API describing the problem (GET /problems/{type}). about:blank for a problem its status code describes.
       * @enum {string}
       */
      type:
        | '/problems/invalid-request'
        | '/problems/malformed-json'
        | '/problems/request-aborted'
        | '/problems/bad-request'
        | '/problems/unauthenticated'
        | '/problems/forbidden'
        | '/problems/not-found'
        | '/problems/order-not-found'
        | '/problems/method-not-allowed'
        | '/problems/conflict'
        | '/problems/order-cancelled'
        | '/problems/body-too-large'
        | '/problems/unsupported-media-type'
        | '/problems/unsupported-encoding'
        | '/problems/order-rejected'
        | '/problems/idempotency-key-reused'
        | '/problems/too-many-requests'
        | '/problems/internal-error'
        | '/problems/service-unavailable'
        | 'about:blank';
      title: string;
      status: number;
      detail: string;
      /** @description The request's path. */
      instance: string;
      /** @description The X-Request-Id of the request, to quote when asking for help. */
      requestId: string;
      /** @description One entry per invalid field or header. */
      errors?: components['schemas']['FieldError'][];
      /** @description The order's state, when the problem is about the order: rejected when placed, or already finished. */
      state?: components['schemas']['OrderState'];
    };
    FieldError: {
      /** @description A path into the request body (e.g. items.0.quantity), (body), or a header name. */
      field: string;
      message: string;
    };
    /** @description An order. Each sku may appear only once in items; raise its quantity instead. */
    OrderRequest: {
      customerId: string;
      items: {
        sku: string;
        quantity: number;
      }[];
      payment: {
        token: string;
      };
      shippingAddress: {
        recipient: string;
        line1: string;
        city: string;
        postalCode: string;
        country: string;
      };
    };
    CancelRequest: {
      /** @default Cancelled by the customer */
      reason: string;
    };
    ApprovalDecision: {
      decidedBy: string;
      comment?: string;
    };
    CompensationResolution: {
      /**
       * @description retry: run the failed compensation again; mark-resolved: it was done by hand.
       * @enum {string}
       */
      action: 'retry' | 'mark-resolved';
      note: string;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  listOrders: {
    parameters: {
      query?: {
        /** @description status */
        status?: 'pending' | 'compensating' | 'confirmed' | 'cancelled';
        /** @description Only this customer's orders. A customer's key must give its own customerId. */
        customerId?: string;
        /** @description Created at or after (ISO 8601). */
        createdFrom?: string;
        /** @description Created before (ISO 8601). */
        createdTo?: string;
        /** @description sort */
        sort?: 'createdAt:desc' | 'createdAt:asc';
        /** @description limit */
        limit?: number;
        /** @description The previous page's nextCursor, as it came (base64url, a dot, 16 base64url check characters); the same filters and sort must be sent with it. A cursor of this form that the API did not issue for this query (its check does not match) is refused with 400. */
        cursor?: string;
      };
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of orders. */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderList'];
        };
      };
      /** @description An unknown or invalid parameter, or a cursor that is malformed or from another query. */
      400: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No API key, or one that is not configured. */
      401: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Always `Bearer`. */
          'WWW-Authenticate'?: 'Bearer';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description A customer's key without its own customerId as filter. */
      403: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  placeOrder: {
    parameters: {
      query?: never;
      header: {
        /** @description Identifies this order request among its customer's; the order id is derived from both. */
        'Idempotency-Key': string;
        /** @description `respond-async`: answer 202 as soon as the order runs, without waiting for its acceptance. */
        Prefer?: string;
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['OrderRequest'];
      };
    };
    responses: {
      /** @description Created: the saga accepted the order; its state at that moment. */
      201: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description The order's URL: /orders/{orderId}. */
          Location?: string;
          /** @description Present (true) when this answers a repeat of an earlier request with the same key. */
          'Idempotent-Replayed'?: 'true';
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderCreated'];
        };
      };
      /** @description Accepted: the order runs. Asked for with `Prefer: respond-async` (then `Preference-Applied: respond-async` is set), or the acceptance took longer than the API waits. */
      202: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description The order's URL: /orders/{orderId}. */
          Location?: string;
          /** @description Present (true) when this answers a repeat of an earlier request with the same key. */
          'Idempotent-Replayed'?: 'true';
          /** @description `respond-async` when the request asked for it. */
          'Preference-Applied'?: 'respond-async';
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderAccepted'];
        };
      };
      /** @description Invalid fields (`errors` names each one), malformed JSON, or a missing or invalid Idempotency-Key. */
      400: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No API key, or one that is not configured. */
      401: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Always `Bearer`. */
          'WWW-Authenticate'?: 'Bearer';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description A customer's key placing an order for another customerId. */
      403: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The order was cancelled before the saga accepted it (/problems/order-cancelled); `state` shows it. */
      409: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The request body is over 32kb. */
      413: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The body is not application/json (or not UTF-8). */
      415: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The saga rejected the order (/problems/order-rejected: `state.failure` names the reason, `state.compensations` what was undone), or the Idempotency-Key was first used with another body (/problems/idempotency-key-reused). */
      422: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Temporal, or the orders database (asked whether the key placed an order before keys were scoped to their customer), did not answer in time (5 s); try again shortly. */
      503: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again (5). */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getOrder: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path: {
        /** @description The order id from the answer of POST /orders. */
        orderId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The order's state. */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderState'];
        };
      };
      /** @description The URL is not valid percent-encoding. */
      400: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No API key, or one that is not configured. */
      401: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Always `Bearer`. */
          'WWW-Authenticate'?: 'Bearer';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description A customer's key reading another customer's order. */
      403: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such order (also for an id that is not an order id). */
      404: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Temporal did not answer in time (5 s); try again shortly. */
      503: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again (5). */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getOrderEvents: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path: {
        /** @description The order id from the answer of POST /orders. */
        orderId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The events. */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderHistory'];
        };
      };
      /** @description No API key, or one that is not configured. */
      401: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Always `Bearer`. */
          'WWW-Authenticate'?: 'Bearer';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description A customer's key reading another customer's order. */
      403: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No events of this order (unknown, or not yet projected). */
      404: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  cancelOrder: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path: {
        /** @description The order id from the answer of POST /orders. */
        orderId: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['CancelRequest'];
      };
    };
    responses: {
      /** @description Cancelled: the final state, `compensations` listing what was undone (or `needs-attention` when a compensation waits for an operator). */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description The order's URL: /orders/{orderId}. */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderState'];
        };
      };
      /** @description Cancellation accepted but not finished within the wait: the state so far; GET the order to follow it. */
      202: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description The order's URL: /orders/{orderId}. */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderState'];
        };
      };
      /** @description Invalid fields (`errors` names each one) or malformed JSON. The URL is not valid percent-encoding also answers 400. */
      400: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No API key, or one that is not configured. */
      401: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Always `Bearer`. */
          'WWW-Authenticate'?: 'Bearer';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description A customer's key cancelling another customer's order. */
      403: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such order (also for an id that is not an order id). */
      404: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The order can no longer be cancelled (it is confirmed, finished, or past its last step); for a finished order, `state` holds its final state. */
      409: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The request body is over 32kb. */
      413: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The body is not application/json (or not UTF-8). */
      415: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Temporal did not answer in time (5 s); try again shortly. */
      503: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again (5). */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  approveOrder: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path: {
        /** @description The order id from the answer of POST /orders. */
        orderId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ApprovalDecision'];
      };
    };
    responses: {
      /** @description Accepted: the order state right after the decision. */
      202: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description The order's URL: /orders/{orderId}. */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderState'];
        };
      };
      /** @description Invalid fields (`errors` names each one) or malformed JSON. The URL is not valid percent-encoding also answers 400. */
      400: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No API key, or one that is not configured. */
      401: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Always `Bearer`. */
          'WWW-Authenticate'?: 'Bearer';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The key is a customer's: only operators take this decision. */
      403: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such order (also for an id that is not an order id). */
      404: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The order is not awaiting approval. */
      409: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The request body is over 32kb. */
      413: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The body is not application/json (or not UTF-8). */
      415: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Temporal did not answer in time (5 s); try again shortly. */
      503: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again (5). */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  rejectOrder: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path: {
        /** @description The order id from the answer of POST /orders. */
        orderId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ApprovalDecision'];
      };
    };
    responses: {
      /** @description Accepted: the order state right after the decision. */
      202: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description The order's URL: /orders/{orderId}. */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderState'];
        };
      };
      /** @description Invalid fields (`errors` names each one) or malformed JSON. The URL is not valid percent-encoding also answers 400. */
      400: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No API key, or one that is not configured. */
      401: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Always `Bearer`. */
          'WWW-Authenticate'?: 'Bearer';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The key is a customer's: only operators take this decision. */
      403: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such order (also for an id that is not an order id). */
      404: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The order is not awaiting approval. */
      409: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The request body is over 32kb. */
      413: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The body is not application/json (or not UTF-8). */
      415: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Temporal did not answer in time (5 s); try again shortly. */
      503: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again (5). */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  resolveCompensation: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path: {
        /** @description The order id from the answer of POST /orders. */
        orderId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CompensationResolution'];
      };
    };
    responses: {
      /** @description Accepted: the order state right after the decision. */
      202: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description The order's URL: /orders/{orderId}. */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OrderState'];
        };
      };
      /** @description Invalid fields (`errors` names each one) or malformed JSON. The URL is not valid percent-encoding also answers 400. */
      400: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No API key, or one that is not configured. */
      401: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Always `Bearer`. */
          'WWW-Authenticate'?: 'Bearer';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The key is a customer's: only operators take this decision. */
      403: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such order (also for an id that is not an order id). */
      404: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No compensation waits for an operator. */
      409: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The request body is over 32kb. */
      413: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The body is not application/json (or not UTF-8). */
      415: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Temporal did not answer in time (5 s); try again shortly. */
      503: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again (5). */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  liveness: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The process runs. */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Liveness'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  readiness: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Every dependency answers. */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Readiness'];
        };
      };
      /** @description A dependency does not answer; `checks` names it and why. */
      503: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds to wait before trying again (5). */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Readiness'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  projectionLag: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The lag, and per service the events waiting or parked. */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ProjectionLag'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  metrics: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The current values of every series. */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  problemType: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path: {
        /** @description The last segment of a problem's `type`. */
        type:
          | 'invalid-request'
          | 'malformed-json'
          | 'request-aborted'
          | 'bad-request'
          | 'unauthenticated'
          | 'forbidden'
          | 'not-found'
          | 'order-not-found'
          | 'method-not-allowed'
          | 'conflict'
          | 'order-cancelled'
          | 'body-too-large'
          | 'unsupported-media-type'
          | 'unsupported-encoding'
          | 'order-rejected'
          | 'idempotency-key-reused'
          | 'too-many-requests'
          | 'internal-error'
          | 'service-unavailable';
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description What a problem type means: the page its `type` resolves to */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/html': unknown;
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  openApiDocument: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description This OpenAPI 3.1 document */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': unknown;
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  docsPage: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Interactive documentation (Swagger UI) */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/html': unknown;
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  docsInitializer: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The docs page's script: loads this document */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/javascript': unknown;
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  docsAsset: {
    parameters: {
      query?: never;
      header?: {
        /** @description Your own id for the request (1–128 printable ASCII characters, no spaces); anything else is replaced by a UUID, never refused. Echoed in the answer, in problem bodies, in log lines and in the memo of the run. */
        'X-Request-Id'?: string;
      };
      path: {
        /** @description A file of Swagger UI. */
        asset: 'swagger-ui.css' | 'swagger-ui-bundle.js' | 'favicon-32x32.png' | 'favicon-16x16.png';
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Swagger UI's files, served from the API itself */
      200: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/css': unknown;
          'text/javascript': unknown;
          'image/png': unknown;
        };
      };
      /** @description Over the rate limit (API_RATE_LIMIT_PER_MINUTE per key, per client IP without one). Every answer of a limited route carries RateLimit and RateLimit-Policy (IETF draft 8). */
      429: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          /** @description Seconds until the limit resets. */
          'Retry-After'?: string;
          /** @description The remaining quota and its reset, e.g. `"600-in-1min"; r=0; t=42`. */
          RateLimit?: string;
          /** @description The quota and its window, e.g. `"600-in-1min"; q=600; w=60`. */
          'RateLimit-Policy'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Any other failure, e.g. 500 when the server fails (it logs the error; no stack trace is sent). */
      default: {
        headers: {
          /** @description The request's id: the client's own if acceptable, else a new UUID. */
          'X-Request-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
}
