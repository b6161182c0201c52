/**
 * Temporal's OpenTelemetry interceptors, wired to a service's tracer: the client's, and the activities'. The classic
 * interceptors rather than the package's OpenTelemetryPlugin: the plugin is experimental, uses one global tracer for
 * client and worker alike, and would add the workflow interceptors below; these compose as plain arrays with the
 * other interceptors of a worker or client.
 *
 * Not the package's workflow interceptors: they change when an activity's result reaches the workflow, so switching
 * tracing on or off would strand running orders (tests/e2e/tracing.test.ts shows which). The order workflow carries the
 * start's trace context to its activities itself (src/interceptors/workflow-trace-context.ts), so a trace reads
 * request -> start -> each activity on its service's worker -> its queries, without spans of the workflow's own.
 *
 * Spans, by name: the client's `UpdateWithStartWorkflow:placeOrder`, `StartWorkflowUpdate:<update>`,
 * `QueryWorkflow:<query>`; on the activity's worker `RunActivity:<activity>`, for a local activity too (the orders steps,
 * on the orders worker that runs the workflow), as the package's activity interceptor names both alike.
 */
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ServiceTracing } from './tracing';

/** The client's interceptors: a span per start, update and query, its context sent along in the headers. */
export function clientTracingInterceptors(tracing: ServiceTracing): WorkflowClientInterceptor[] {
  return [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })];
}

/** What a worker needs for tracing: its activity interceptors. */
export interface WorkerTracing {
  activity: ActivityInterceptorsFactory[];
}

export function workerTracing(tracing: ServiceTracing): WorkerTracing {
  const options = { tracer: tracing.tracer };
  return {
    activity: [
      (context) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(context, options),
        // Adds trace_id and span_id to the activity's log lines.
        outbound: new OpenTelemetryActivityOutboundInterceptor(context),
      }),
    ],
  };
}
