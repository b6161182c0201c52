/** Tracing's configuration, apart from the SDK so that reading the configuration loads no OpenTelemetry code. */

/** OpenTelemetry's own variable values (OTEL_TRACES_EXPORTER); `none` is the default. */
export const tracesExporters = ['none', 'otlp', 'console'] as const;
export type TracesExporter = (typeof tracesExporters)[number];

export type TracingConfig =
  | { exporter: 'none' }
  | { exporter: 'console' }
  /** `endpoint`: the full URL spans are POSTed to, e.g. http://127.0.0.1:4318/v1/traces (OTLP over HTTP, protobuf). */
  | { exporter: 'otlp'; endpoint: string };

/** Where an OTLP collector listens by default (OTLP/HTTP), as in OpenTelemetry's specification. */
export const defaultOtlpEndpoint = 'http://localhost:4318';

/**
 * The traces URL, as OpenTelemetry's SDKs derive it: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given;
 * OTEL_EXPORTER_OTLP_ENDPOINT is a base to which `/v1/traces` is appended.
 */
export function otlpTracesUrl(tracesEndpoint: string | undefined, endpoint: string | undefined): string {
  if (tracesEndpoint !== undefined) return tracesEndpoint;
  return `${(endpoint ?? defaultOtlpEndpoint).replace(/\/+$/, '')}/v1/traces`;
}

/** The tracing configuration from OpenTelemetry's variables, once validated (src/config.ts). */
export function tracingConfig(
  exporter: TracesExporter,
  tracesEndpoint: string | undefined,
  endpoint: string | undefined,
): TracingConfig {
  return exporter === 'otlp' ? { exporter, endpoint: otlpTracesUrl(tracesEndpoint, endpoint) } : { exporter };
}
