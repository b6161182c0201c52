/**
 * Runs in the workflow sandbox (registered as a workflow interceptor module): imports only @temporalio/workflow and
 * pure modules.
 */
import {
  defaultPayloadConverter,
  workflowInfo,
  type ActivityInput,
  type LocalActivityInput,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { findOrderIdOfWorkflow } from '../temporal/names';
import { orderMemoFields } from '../workflows/definitions';
import { requestIdActivityHeader } from './log-context-fields';

/** The order and the placing request (the API put its id in the run's memo at start) of the current run. */
function runLogContext(): { orderId?: string; requestId?: string } {
  const { workflowId, memo } = workflowInfo();
  const orderId = findOrderIdOfWorkflow(workflowId);
  const requestId = memo?.[orderMemoFields.requestId];
  return {
    ...(orderId === undefined ? {} : { orderId }),
    ...(typeof requestId === 'string' ? { requestId } : {}),
  };
}

/** The activity's headers plus the request id, so the activity's log lines name the request too. */
function withRequestId<Input extends ActivityInput | LocalActivityInput>(input: Input): Input {
  const { requestId } = runLogContext();
  if (requestId === undefined) return input;
  return {
    ...input,
    headers: { ...input.headers, [requestIdActivityHeader]: defaultPayloadConverter.toPayload(requestId) },
  };
}

/**
 * `log` from @temporalio/workflow (the saga's lines and the SDK's own) carries the order and request ids next to the
 * workflow and run ids the SDK adds. The SDK drops workflow log lines while a run replays, so each is written once.
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes: (input, next) => next({ ...input, ...runLogContext() }),
      scheduleActivity: (input, next) => next(withRequestId(input)),
      scheduleLocalActivity: (input, next) => next(withRequestId(input)),
    },
  ],
});
