import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { withLogContext, type LogContext } from '../logger';
import { findOrderIdOfWorkflow } from '../temporal/names';
import { requestIdActivityHeader } from './log-context-fields';

function requestIdOf(headers: Headers): string | undefined {
  const payload = headers[requestIdActivityHeader];
  if (payload === undefined) return undefined;
  const requestId: unknown = defaultPayloadConverter.fromPayload(payload);
  return typeof requestId === 'string' ? requestId : undefined;
}

/**
 * Every line an activity logs names its run, its order and the request that placed the order: those of `log` from
 * @temporalio/activity and of the SDK (which adds workflowId, runId, activityType… itself) through getLogAttributes,
 * and pino lines written while the activity runs (src/logger.ts's context). The SDK writes its 'Activity started'
 * line before any interceptor sees the headers, so that one line has no requestId.
 */
export const activityLogContext: ActivityInterceptorsFactory = ({ info }) => {
  const execution = info.workflowExecution;
  const orderId = execution && findOrderIdOfWorkflow(execution.workflowId);
  const context: LogContext = {
    ...(execution ? { workflowId: execution.workflowId, runId: execution.runId } : {}),
    ...(orderId === undefined ? {} : { orderId }),
  };
  return {
    inbound: {
      execute: (input, next) => {
        const requestId = requestIdOf(input.headers);
        if (requestId !== undefined) context.requestId = requestId;
        return withLogContext(context, () => next(input));
      },
    },
    outbound: {
      // The SDK names an activity's run `workflowRunId`; as `runId`, one query finds the run's workflow and activities.
      // The task token is left out: whoever holds it can complete or fail the activity.
      getLogAttributes: ({ workflowRunId, taskToken: _taskToken, ...input }, next) =>
        next({
          ...input,
          ...(workflowRunId === undefined ? {} : { runId: workflowRunId }),
          ...(context.orderId === undefined ? {} : { orderId: context.orderId }),
          ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
        }),
    },
  };
};
