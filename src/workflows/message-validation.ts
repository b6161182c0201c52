import { ApplicationFailure } from '@temporalio/workflow';
import {
  invalidOrderMessageType,
  orderMessageLimits,
  type ApprovalDecision,
  type CancelOrderRequest,
  type OperatorResolution,
  type OrderPlacement,
} from './definitions';

/*
 * Payload checks for the order workflow's updates, run by their validators.
 *
 * The API validates with zod before it sends anything, but the Temporal CLI, the Web UI and other SDKs reach the
 * workflow directly. A malformed payload that got past a validator would throw inside the handler, where a TypeError
 * fails the workflow task (the run stalls and retries it), or be taken at face value (an approval "by undefined"). A
 * validator's rejection instead leaves no event in the history and answers the sender at once.
 *
 * No zod here: it would triple the workflow bundle, which every run evaluates. The limits mirror the API's schemas
 * (src/api/schemas.ts), so whatever the API sends passes. Fields the workflow does not know are ignored, so that an API
 * newer than the workers can add one during a rolling deployment.
 */

/** A record of the payload's own fields; anything else (no input, null, an array, a string) is refused. */
function fieldsOf(update: string, example: string, payload: unknown): Record<string, unknown> {
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    return payload as Record<string, unknown>;
  }
  return refuse(update, example, `it takes one JSON object, and got ${describe(payload)}`);
}

function refuse(update: string, example: string, problem: string): never {
  throw ApplicationFailure.nonRetryable(
    `Invalid ${update} message: ${problem}. Expected e.g. ${example}`,
    invalidOrderMessageType,
  );
}

/** What was sent, without echoing it: a payload may hold text nobody should find in a log. */
function describe(value: unknown): string {
  if (value === undefined) return 'no value';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  return `a ${typeof value}`;
}

interface TextRule {
  maxLength: number;
  optional?: boolean;
}

/** A string that is not blank (the API trims before it checks) and not longer than the API lets through. */
function checkText(update: string, example: string, fields: Record<string, unknown>, field: string, rule: TextRule) {
  const value = fields[field];
  if (value === undefined && rule.optional) return;
  const wanted = rule.optional
    ? `${field} must be absent or a string of at most ${rule.maxLength} characters`
    : `${field} must be a non-blank string of at most ${rule.maxLength} characters`;
  if (typeof value !== 'string') refuse(update, example, `${wanted}, and got ${describe(value)}`);
  if (value.length > rule.maxLength || (!rule.optional && value.trim().length === 0)) {
    refuse(update, example, `${wanted}, and got ${describe(value)}${value.trim().length === 0 ? ' (blank)' : ''}`);
  }
}

const placementExample =
  '{"requestFingerprint":"sha256:…"} (the API sends it; the run\'s memo holds the one it started with)';

/** placeOrder's payload: the fingerprint of the placing request's body. */
export function assertOrderPlacement(payload: unknown): asserts payload is OrderPlacement {
  const fields = fieldsOf('placeOrder', placementExample, payload);
  checkText('placeOrder', placementExample, fields, 'requestFingerprint', {
    maxLength: orderMessageLimits.requestFingerprint,
  });
}

const cancellationExample = '{"reason":"The customer changed their mind"}';

/** cancelOrder's payload: why the order is cancelled. */
export function assertCancelOrderRequest(payload: unknown): asserts payload is CancelOrderRequest {
  const fields = fieldsOf('cancelOrder', cancellationExample, payload);
  checkText('cancelOrder', cancellationExample, fields, 'reason', { maxLength: orderMessageLimits.cancellationReason });
}

const decisionExample = '{"approved":true,"decidedBy":"ops@example.com","comment":"Known customer"}';

/** decideApproval's payload: the decision, who made it, and an optional comment. */
export function assertApprovalDecision(payload: unknown): asserts payload is ApprovalDecision {
  const fields = fieldsOf('decideApproval', decisionExample, payload);
  if (typeof fields.approved !== 'boolean') {
    refuse('decideApproval', decisionExample, `approved must be true or false, and got ${describe(fields.approved)}`);
  }
  checkText('decideApproval', decisionExample, fields, 'decidedBy', { maxLength: orderMessageLimits.decidedBy });
  checkText('decideApproval', decisionExample, fields, 'comment', {
    maxLength: orderMessageLimits.approvalComment,
    optional: true,
  });
}

const resolutionExample = '{"action":"mark-resolved","note":"Refunded by hand in the gateway console"}';
const resolutionActions: readonly OperatorResolution['action'][] = ['retry', 'mark-resolved'];

/** resolveCompensation's payload: retry the stuck compensation, or mark it done by hand, with a note. */
export function assertOperatorResolution(payload: unknown): asserts payload is OperatorResolution {
  const fields = fieldsOf('resolveCompensation', resolutionExample, payload);
  if (!resolutionActions.includes(fields.action as OperatorResolution['action'])) {
    refuse(
      'resolveCompensation',
      resolutionExample,
      `action must be "retry" or "mark-resolved", and got ${describe(fields.action)}`,
    );
  }
  checkText('resolveCompensation', resolutionExample, fields, 'note', { maxLength: orderMessageLimits.operatorNote });
}
