import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { cancelSchema, decisionSchema, resolutionSchema } from '../../src/api/schemas';
import { invalidOrderMessageType, orderMessageLimits } from '../../src/workflows/definitions';
import {
  assertApprovalDecision,
  assertCancelOrderRequest,
  assertOperatorResolution,
  assertOrderPlacement,
} from '../../src/workflows/message-validation';

/**
 * The validators' payload checks against the API's schemas: whatever the API lets through (up to its limits) the
 * workflow takes, and what the API refuses for length or type the workflow refuses too, with InvalidOrderMessage.
 */

function refused(check: (payload: unknown) => void, payload: unknown): boolean {
  try {
    check(payload);
    return false;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `a failure, not ${String(error)}`);
    assert.equal(error.type, invalidOrderMessageType);
    assert.equal(error.nonRetryable, true);
    return true;
  }
}

const text = (length: number) => 'x'.repeat(length);

/** What the API sends for a body: the schema's output, as src/api/orders.ts builds the update's argument. */
function apiSends<T>(schema: z.ZodType<T>, body: unknown): T | undefined {
  const parsed = schema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

describe('update payload checks mirror the API', () => {
  test('cancelOrder', () => {
    for (const reason of [undefined, 'x', text(orderMessageLimits.cancellationReason)]) {
      const sent = apiSends(cancelSchema, reason === undefined ? {} : { reason });
      assert.ok(sent, 'the API takes it');
      assert.equal(refused(assertCancelOrderRequest, sent), false);
    }
    const over = { reason: text(orderMessageLimits.cancellationReason + 1) };
    assert.equal(apiSends(cancelSchema, over), undefined, 'the API refuses it');
    assert.equal(refused(assertCancelOrderRequest, over), true);
    for (const payload of [undefined, null, {}, [], 'why', { reason: 1 }, { reason: ' ' }]) {
      assert.equal(refused(assertCancelOrderRequest, payload), true, JSON.stringify(payload));
    }
  });

  test('decideApproval', () => {
    for (const approved of [true, false]) {
      for (const body of [
        { decidedBy: 'ops' },
        { decidedBy: text(orderMessageLimits.decidedBy), comment: text(orderMessageLimits.approvalComment) },
      ]) {
        const sent = apiSends(decisionSchema, body);
        assert.ok(sent, 'the API takes it');
        // As src/api/orders.ts: the route gives `approved`, and an empty comment is left out.
        const decision = { approved, decidedBy: sent.decidedBy, ...(sent.comment ? { comment: sent.comment } : {}) };
        assert.equal(refused(assertApprovalDecision, decision), false);
      }
    }
    for (const over of [
      { decidedBy: text(orderMessageLimits.decidedBy + 1) },
      { decidedBy: 'ops', comment: text(orderMessageLimits.approvalComment + 1) },
    ]) {
      assert.equal(apiSends(decisionSchema, over), undefined, 'the API refuses it');
      assert.equal(refused(assertApprovalDecision, { approved: true, ...over }), true);
    }
    for (const payload of [
      undefined,
      {},
      { approved: false },
      { approved: 'yes', decidedBy: 'ops' },
      { approved: true, decidedBy: '' },
      { approved: true, decidedBy: 'ops', comment: 1 },
    ]) {
      assert.equal(refused(assertApprovalDecision, payload), true, JSON.stringify(payload));
    }
  });

  test('resolveCompensation', () => {
    for (const body of [
      { action: 'retry', note: 'n' },
      { action: 'mark-resolved', note: text(orderMessageLimits.operatorNote) },
    ]) {
      const sent = apiSends(resolutionSchema, body);
      assert.ok(sent, 'the API takes it');
      assert.equal(refused(assertOperatorResolution, sent), false);
    }
    const over = { action: 'retry', note: text(orderMessageLimits.operatorNote + 1) };
    assert.equal(apiSends(resolutionSchema, over), undefined, 'the API refuses it');
    assert.equal(refused(assertOperatorResolution, over), true);
    for (const payload of [undefined, {}, { action: 'retry' }, { action: 'skip', note: 'n' }, { note: 'n' }]) {
      assert.equal(refused(assertOperatorResolution, payload), true, JSON.stringify(payload));
    }
  });

  test('placeOrder', () => {
    assert.equal(refused(assertOrderPlacement, { requestFingerprint: `sha256:${'0'.repeat(64)}` }), false);
    for (const payload of [
      undefined,
      {},
      { requestFingerprint: 1 },
      { requestFingerprint: '' },
      { requestFingerprint: text(orderMessageLimits.requestFingerprint + 1) },
    ]) {
      assert.equal(refused(assertOrderPlacement, payload), true, JSON.stringify(payload));
    }
  });

  test('a refusal says what was sent without echoing it', () => {
    const secret = 'Card 4242 4242 4242 4242, call me at 555-0100';
    try {
      assertCancelOrderRequest({ reason: `${secret}${text(orderMessageLimits.cancellationReason)}` });
      assert.fail('refused');
    } catch (error) {
      assert.ok(error instanceof ApplicationFailure);
      assert.doesNotMatch(error.message, /4242/);
      assert.match(error.message, /reason must be a non-blank string of at most 500 characters/);
      assert.match(error.message, /Expected e\.g\. \{"reason":/);
    }
  });
});
