/**
 * Runs in the workflow sandbox (registered as a workflow interceptor module): imports only @temporalio/workflow and
 * pure modules.
 *
 * Carries the trace of the request that started the run on to each activity the run schedules, activity task or local
 * activity, so an activity's span (made by Temporal's OpenTelemetry activity interceptor on the worker that runs it,
 * which runs for local activities too) is a child of the client's start span. Temporal's own workflow tracing
 * interceptors are not used: they wrap the run's calls in promises of their own, which moves an activity's result a few
 * microtasks later and reorders commands where an update handler acts in the same activation, so runs recorded without
 * them do not replay with them (tests/e2e/tracing.test.ts shows it). Copying a header is synchronous and leaves the
 * commands as they were, so this module is in every bundle of the order workflow, tracing on or off.
 */
import type { ActivityInput, LocalActivityInput, Payload, WorkflowInterceptorsFactory } from '@temporalio/workflow';

/**
 * The header Temporal's OpenTelemetry interceptors carry a span context in (their `TRACE_HEADER`). Spelled here
 * rather than imported: importing it would bundle OpenTelemetry into the workflow code, which is loaded again for
 * every run; tests/e2e/tracing.test.ts checks that the two agree.
 */
export const traceHeader = '_tracer-data';

export const interceptors: WorkflowInterceptorsFactory = () => {
  /** The start's trace context (absent when the client did not trace). */
  let startTrace: Payload | undefined;
  return {
    inbound: [
      {
        execute: (input, next) => {
          startTrace = input.headers[traceHeader];
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next(withStartTrace(input, startTrace)),
        // The orders steps run as local activities in the worker that runs the workflow: their RunActivity span
        // belongs under the start as much as an activity task's does.
        scheduleLocalActivity: (input, next) => next(withStartTrace(input, startTrace)),
      },
    ],
  };
};

/** The input with the start's trace context in its headers, unless it has one or there is none to give. */
function withStartTrace<Input extends ActivityInput | LocalActivityInput>(
  input: Input,
  startTrace: Payload | undefined,
): Input {
  return startTrace === undefined || input.headers[traceHeader] !== undefined
    ? input
    : { ...input, headers: { ...input.headers, [traceHeader]: startTrace } };
}
