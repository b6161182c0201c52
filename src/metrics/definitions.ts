/**
 * Every metric this project exposes, named once. The API and the workers
 * register theirs from here; the saga's own counters are named in the
 * workflow's definitions (the workflow emits them through Temporal's metric
 * meter) and only their exposed names are derived here.
 *
 * Conventions (Prometheus'): base units (seconds), counters end in `_total`,
 * one `order_saga_` prefix for everything of ours, `temporal_` for the SDK's.
 */
import { sagaMetricNames } from '../workflows/definitions';

/** Prometheus' text exposition format 0.0.4: what prom-client and Temporal's Core exporter both write. */
export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** How long one scrape waits for a figure computed at scrape time (a database, Temporal's visibility). */
export const scrapeMeasureTimeoutMs = 2_000;

/**
 * The saga's counters as Prometheus shows them: the workflow names them without a suffix, and the runtime's
 * exporter (with `countersTotalSuffix`, see runtime-exporter.ts) appends `_total`.
 */
export const sagaSeries = {
  outcomes: `${sagaMetricNames.outcomes}_total`,
  compensations: `${sagaMetricNames.compensations}_total`,
  stepWaits: `${sagaMetricNames.stepWaits}_total`,
} as const;

export const apiMetrics = {
  httpDuration: {
    name: 'order_saga_http_request_duration_seconds',
    help: 'API requests by method, Express route pattern (unmatched: no route handled it) and status, in seconds',
    labelNames: ['method', 'route', 'status'] as const,
    // POST /orders and cancel wait up to 5 s for the saga before answering 202: buckets reach past that.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10],
  },
  needsAttention: {
    name: 'order_saga_needs_attention_orders',
    help: 'Running orders whose compensation waits for an operator (Temporal visibility: NeedsAttention = true)',
  },
  waitingOrders: {
    name: 'order_saga_waiting_orders',
    help: 'Running orders delayed at a step by transient trouble, by step (Temporal visibility: OrderWaitingOn)',
    labelNames: ['step'] as const,
  },
  projectionLag: {
    name: 'order_saga_projection_lag_seconds',
    help: 'Age of the oldest event a service committed that the read model does not show yet (0: it is current)',
  },
  outboxEvents: {
    name: 'order_saga_outbox_events',
    help: "Events in each service's outbox not delivered to the read model: pending (on their way) or parked (dead letters)",
    labelNames: ['service', 'status'] as const,
  },
  measureFailures: {
    name: 'order_saga_metric_measure_failures_total',
    help: 'Scrapes at which a figure could not be measured in time (that gauge is absent from the scrape)',
    labelNames: ['metric'] as const,
  },
} as const;

/** The label value of requests no route handled: 404s, and refusals before routing (401, 429, bad body). */
export const unmatchedRoute = 'unmatched';

export const workerMetrics = {
  breakerState: {
    name: 'order_saga_partner_breaker_state',
    help: "State of this worker's circuit breaker towards a partner: 0 closed, 1 half-open, 2 open, 3 isolated",
    labelNames: ['partner'] as const,
  },
  carrierRates: {
    name: 'order_saga_carrier_rates_total',
    help: "Parcels priced by this worker, by where the rate came from: the carrier's quote or the flat-rate fallback",
    labelNames: ['source'] as const,
  },
  runtimeUp: {
    name: 'order_saga_temporal_runtime_metrics_up',
    help: "1 if this scrape includes the Temporal runtime's own metrics (temporal_*), 0 if its exporter did not answer",
  },
} as const;
