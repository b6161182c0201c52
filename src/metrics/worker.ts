import { Counter, Gauge, type Registry } from 'prom-client';
import type { CarrierClient } from '../partners/carrier-client';
import type { GatewayClient } from '../partners/gateway-client';
import type { BreakerState } from '../partners/responses';
import { prometheusContentType, scrapeMeasureTimeoutMs, workerMetrics } from './definitions';
import { processRegistry } from './process';
import { fetchRuntimeMetrics } from './runtime-exporter';

/** What a status page serves at `GET /metrics`. */
export interface MetricsEndpoint {
  contentType: string;
  scrape(): Promise<string>;
}

export interface WorkerMetricsSources {
  /** The payments worker's client of the payment gateway (its breaker). */
  gateway?: Pick<GatewayClient, 'status'>;
  /** The shipping worker's client of the carrier (its breaker, and how often it fell back to the flat rate). */
  carrier?: Pick<CarrierClient, 'status'>;
  /** Where the process's Temporal runtime exports its metrics (runtime-exporter.ts); without it, only ours. */
  runtimeMetricsUrl?: string;
}

/** Numbers, so a graph shows the breaker's history and an alert can say `> 0`. */
export const breakerStateValues: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 };

/**
 * A worker process's metrics: the Temporal runtime's (fetched from Core's exporter at each scrape), the process's
 * own (prom-client's defaults) and its partner clients'. The two expositions are concatenated: their families never
 * share a name (`temporal_*` and the saga's counters come from Core, the rest from prom-client).
 */
export function createWorkerMetrics(
  { gateway, carrier, runtimeMetricsUrl }: WorkerMetricsSources,
  registry: Registry = processRegistry(),
): MetricsEndpoint {
  const partners = { gateway, carrier };
  if (gateway ?? carrier) {
    new Gauge({
      ...workerMetrics.breakerState,
      labelNames: [...workerMetrics.breakerState.labelNames],
      registers: [registry],
      collect() {
        for (const [partner, client] of Object.entries(partners)) {
          if (client) this.set({ partner }, breakerStateValues[client.status().breaker]);
        }
      },
    });
  }

  if (carrier) {
    // The client counts for itself (its status page shows the same figures); the counter follows it.
    const exported = { quotes: 0, flatRates: 0 };
    new Counter({
      ...workerMetrics.carrierRates,
      labelNames: [...workerMetrics.carrierRates.labelNames],
      registers: [registry],
      collect() {
        const { quotes, flatRates } = carrier.status();
        this.inc({ source: 'carrier-quote' }, quotes - exported.quotes);
        this.inc({ source: 'flat-rate' }, flatRates - exported.flatRates);
        Object.assign(exported, { quotes, flatRates });
      },
    });
  }

  const runtimeUp = runtimeMetricsUrl ? new Gauge({ ...workerMetrics.runtimeUp, registers: [registry] }) : undefined;

  return {
    contentType: prometheusContentType,
    async scrape() {
      const runtime = runtimeMetricsUrl
        ? await fetchRuntimeMetrics(runtimeMetricsUrl, scrapeMeasureTimeoutMs)
        : undefined;
      runtimeUp?.set(runtime === undefined ? 0 : 1);
      const own = await registry.metrics();
      return runtime === undefined ? own : `${own}\n${runtime.endsWith('\n') ? runtime : `${runtime}\n`}`;
    },
  };
}
