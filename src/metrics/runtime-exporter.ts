/**
 * The Temporal runtime's own metrics (Core's: polls, task latencies, slots,
 * sticky cache, RPCs; and what workflow code emits through `metricMeter`).
 *
 * Core exports them through its Prometheus exporter, an HTTP listener of its
 * own. A worker binds it to an ephemeral port on loopback and serves it
 * merged into its status page's `GET /metrics` (see worker.ts), so each
 * process is one scrape target and Core's listener is never reachable from
 * outside. This keeps Core's exact series (names, buckets, labels as
 * Temporal documents them) instead of re-aggregating its buffered updates
 * (the SDK's MetricsBuffer, experimental) into prom-client.
 */
import type { MetricsExporterConfig } from '@temporalio/worker';
import { freePort } from '../net/ports';

export interface RuntimeMetricsExporter {
  /** Core's exporter listens here (loopback only). */
  port: number;
}

/**
 * Prometheus' naming conventions rather than Core's defaults: counters end in `_total`, durations are in seconds
 * and say so (`temporal_activity_execution_latency_seconds`), as our own metrics do.
 */
export function runtimeMetricsConfig({ port }: RuntimeMetricsExporter): MetricsExporterConfig {
  return {
    prometheus: {
      bindAddress: `127.0.0.1:${port}`,
      countersTotalSuffix: true,
      unitSuffix: true,
      useSecondsForDurations: true,
    },
  };
}

/** A free loopback port for Core's exporter (Core does not report the port it bound, so 0 cannot be used). */
export async function runtimeMetricsExporter(): Promise<RuntimeMetricsExporter> {
  return { port: await freePort() };
}

export function runtimeMetricsUrl({ port }: RuntimeMetricsExporter): string {
  return `http://127.0.0.1:${port}/metrics`;
}

/** Core's exposition text, or undefined when it does not answer within `timeoutMs`. */
export async function fetchRuntimeMetrics(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    // Plain text 0.0.4 asked for explicitly, so the merge never meets OpenMetrics.
    const response = await fetch(url, {
      headers: { accept: 'text/plain; version=0.0.4' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return response.ok ? text : undefined;
  } catch {
    return undefined;
  }
}
