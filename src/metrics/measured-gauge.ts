import { Counter, Gauge, type LabelValues, type Registry } from 'prom-client';
import { apiMetrics, scrapeMeasureTimeoutMs } from './definitions';

export interface GaugeSample<L extends string> {
  labels?: LabelValues<L>;
  value: number;
}

export interface MeasuredGaugeOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** Runs at each scrape; bounded by the measurements' timeout. */
  measure: () => Promise<GaugeSample<L>[]>;
}

function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** A gauge whose samples are those of its latest measurement, or none if that failed. */
class MeasuredGauge<L extends string> extends Gauge<L> {
  #measured = false;

  async measure(measure: () => Promise<GaugeSample<L>[]>, timeoutMs: number): Promise<boolean> {
    try {
      const samples = await within(measure(), timeoutMs);
      this.reset();
      for (const { labels, value } of samples) {
        if (labels) this.set(labels, value);
        else this.set(value);
      }
      this.#measured = true;
    } catch {
      this.#measured = false;
    }
    return this.#measured;
  }

  override async get() {
    const metric = await super.get();
    return this.#measured ? metric : { ...metric, values: [] };
  }
}

/**
 * Gauges measured when Prometheus scrapes (a count in Temporal, an outbox's
 * age), so none is older than the scrape. Each scrape measures them all at
 * once, bounded by `timeoutMs`, before the registry is written out. A figure
 * that cannot be measured in time is left out of that scrape (and counted in
 * `order_saga_metric_measure_failures_total`) instead of answering a stale
 * value or a false 0, and never holds up or fails the rest of the scrape.
 */
export function scrapeTimeGauges(registry: Registry, timeoutMs = scrapeMeasureTimeoutMs) {
  const failures = new Counter({
    ...apiMetrics.measureFailures,
    labelNames: [...apiMetrics.measureFailures.labelNames],
    registers: [registry],
  });
  const measurements: (() => Promise<void>)[] = [];
  return {
    add<L extends string>({ name, help, labelNames = [], measure }: MeasuredGaugeOptions<L>): void {
      const gauge = new MeasuredGauge<L>({ name, help, labelNames, registers: [registry] });
      measurements.push(async () => {
        if (!(await gauge.measure(measure, timeoutMs))) failures.inc({ metric: name });
      });
    },
    async measureAll(): Promise<void> {
      await Promise.all(measurements.map((measurement) => measurement()));
    },
  };
}

/**
 * One measurement shared by the gauges of one scrape, e.g. the projection's lag and its outbox counts from the
 * same queries.
 */
export function sharedPerScrape<T>(measure: () => Promise<T>, reuseMs = 1_000): () => Promise<T> {
  let latest: { at: number; result: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!latest || now - latest.at > reuseMs) latest = { at: now, result: measure() };
    return latest.result;
  };
}
