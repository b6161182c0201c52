/**
 * Traces of an order across the processes it touches: the API's HTTP span, the workflow start, the run and its
 * updates, each activity and the database queries it makes. Off by default (OTEL_TRACES_EXPORTER=none): then nothing
 * here is created and the code that might trace only meets OpenTelemetry's no-op API.
 *
 * Each process (api, worker:orders, ...) traces as its own service. Spans reach one another's traces through
 * Temporal's headers (the interceptors of @temporalio/interceptors-opentelemetry), and in a process through the
 * AsyncLocalStorage context manager, which is registered once per process.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from './tracing-config';

export type { TracingConfig };

/** One service's tracing: its tracer, and the processor and resource its spans go to. */
export interface ServiceTracing {
  /** `api`, `worker:orders`, ...: the `service.name` of every span it makes. */
  readonly serviceName: string;
  readonly tracer: Tracer;
  /** The `service.name` and the SDK's attributes, on every span. */
  readonly resource: Resource;
  readonly spanProcessor: SpanProcessor;
  /** Sends what is buffered (an OTLP batch); the process should call it before it exits. */
  forceFlush(): Promise<void>;
}

/** The span processor for the configured exporter; undefined when tracing is off. */
export function spanProcessorFor(config: TracingConfig): SpanProcessor | undefined {
  switch (config.exporter) {
    case 'none':
      return undefined;
    // Printed as each span ends: a trace to read in the terminal, not to ship.
    case 'console':
      return new SimpleSpanProcessor(new ConsoleSpanExporter());
    case 'otlp':
      return new BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint }));
  }
}

let contextRegistered = false;

/**
 * A service's tracing over `spanProcessor`. Several services may share one processor in one process (the tests, the
 * trace script): each gets its own resource, so each span still names its service.
 */
export function createServiceTracing(serviceName: string, spanProcessor: SpanProcessor): ServiceTracing {
  const resource = Resource.default().merge(new Resource({ [ATTR_SERVICE_NAME]: serviceName }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The context manager (AsyncLocalStorage) and the W3C propagator are process-wide; the first service registers
  // them (and its provider as the global one, for libraries that ask for it).
  if (!contextRegistered) {
    provider.register();
    contextRegistered = true;
  }
  return {
    serviceName,
    tracer: provider.getTracer('temporal-order-saga'),
    resource,
    spanProcessor,
    forceFlush: () => provider.forceFlush(),
  };
}

/** The process's tracing as configured, or undefined when it is off (the default). */
export function startTracing(serviceName: string, config: TracingConfig): ServiceTracing | undefined {
  const spanProcessor = spanProcessorFor(config);
  return spanProcessor && createServiceTracing(serviceName, spanProcessor);
}
