import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPaymentsActivities, type ChargePaymentInput } from '../../src/activities/payments';
import { type PaymentsDb } from '../../src/db';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import {
  GatewayUnavailable,
  createGatewayClient,
  defaultGatewayClientOptions,
  type GatewayClient,
} from '../../src/partners/gateway-client';
import { launchGateway, type GatewayProcess } from '../../simulators/launch';
import { freePort } from '../../src/net/ports';
import { failureOf, rejectionOf, runActivity } from '../support/run-activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { providers, skipReason, migratedServiceDatabase } from '../support/service-databases';
import { startGateway, type TestGateway } from '../support/partners';

/**
 * The payments activities against their real database and the real payment
 * gateway process: whatever fails (the gateway, the network, a timeout after
 * the money moved, a compensation racing the step), each order is charged at
 * most once and a compensated order keeps no money. Checked in both stores:
 * the service's rows and the gateway's own charges.
 */

/** The failure an activity threw, retryable or not. */
for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`payments through the gateway on ${provider}`, { skip }, () => {
    let db: PaymentsDb;
    let partner: TestGateway | undefined;
    let gateway: GatewayProcess;
    let client: GatewayClient;
    let close: () => Promise<void>;
    let sequence = 0;
    const newInput = (paymentToken: string = paymentTokens.approved): ChargePaymentInput => {
      const key = `order-pay-${provider}-${++sequence}:charge-payment`;
      return { key, orderId: `ord_pay_${provider}_${sequence}`, amountCents: 1_234, paymentToken };
    };
    const activitiesWith = (options: Partial<typeof defaultGatewayClientOptions> = {}) =>
      createPaymentsActivities(
        db,
        createGatewayClient({ ...defaultGatewayClientOptions, ...options, baseUrl: gateway.url }),
      );

    before(async () => {
      ({ db, close } = await migratedServiceDatabase(provider, 'payments'));
      partner = await startGateway();
      ({ process: gateway, client } = partner);
    });

    after(async () => {
      await close?.();
      await partner?.stop();
    });

    const chargesAtGateway = (orderId: string) => client.chargesOfOrder(orderId);
    const paymentRow = (key: string) => db.payment.findUniqueOrThrow({ where: { key } });

    test('charge twice: one charge at the gateway; refund twice: one refund', async () => {
      const payments = activitiesWith();
      const input = newInput();
      const first = await runActivity(payments.chargePayment, input);
      assert.deepEqual(await runActivity(payments.chargePayment, input), first);
      const [charge, ...more] = await chargesAtGateway(input.orderId);
      assert.equal(more.length, 0);
      assert.equal(charge?.status, 'succeeded');
      assert.equal((await paymentRow(input.key)).gatewayChargeId, charge?.id);

      const refund = { stepKey: input.key, orderId: input.orderId };
      assert.deepEqual(await runActivity(payments.refundPayment, refund), { refunded: true });
      assert.deepEqual(await runActivity(payments.refundPayment, refund), { refunded: true });
      const [refunded] = await chargesAtGateway(input.orderId);
      assert.equal(refunded?.refundedCents, input.amountCents);
      assert.equal((await paymentRow(input.key)).status, 'REFUNDED');
    });

    test('a declined card is remembered and recorded DECLINED; the gateway saw one request', async () => {
      const payments = activitiesWith();
      const input = newInput(paymentTokens.declined);
      assert.equal(await rejectionOf(runActivity(payments.chargePayment, input)), rejectionTypes.paymentDeclined);
      assert.equal(await rejectionOf(runActivity(payments.chargePayment, input)), rejectionTypes.paymentDeclined);
      assert.equal((await paymentRow(input.key)).status, 'DECLINED');
      const charges = await chargesAtGateway(input.orderId);
      assert.deepEqual(
        charges.map((charge) => charge.status),
        ['declined'],
      );
      assert.deepEqual(await runActivity(payments.refundPayment, { stepKey: input.key, orderId: input.orderId }), {
        refunded: false,
      });
    });

    test('a rejected refund fails without retry, every time it is tried, and keeps the charge', async () => {
      const payments = activitiesWith();
      const input = newInput(paymentTokens.refundRejected);
      await runActivity(payments.chargePayment, input);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        assert.equal(
          await rejectionOf(runActivity(payments.refundPayment, { stepKey: input.key, orderId: input.orderId })),
          rejectionTypes.refundRejected,
        );
      }
      assert.equal((await paymentRow(input.key)).status, 'CHARGED');
      assert.equal((await chargesAtGateway(input.orderId))[0]?.refundedCents, 0);
    });

    test('a card whose issuer does not answer fails retryably, then charges once', async () => {
      const payments = activitiesWith();
      const input = newInput(paymentTokens.flaky);
      for (let attempt = 1; attempt <= 2; attempt += 1) {
        const failure = await failureOf(runActivity(payments.chargePayment, input));
        assert.equal(failure.nonRetryable, false);
        assert.equal(failure.type, 'CardIssuerUnavailable');
      }
      assert.equal((await paymentRow(input.key)).status, 'PENDING');
      await runActivity(payments.chargePayment, input);
      assert.equal((await paymentRow(input.key)).status, 'CHARGED');
      assert.equal((await chargesAtGateway(input.orderId)).length, 1);
    });

    test('the gateway times out after charging: the retry finds the charge by its key, one charge', async () => {
      const payments = activitiesWith({ callTimeoutMs: 1_000 });
      const input = newInput(paymentTokens.timeoutAfterCharge);
      const failure = await failureOf(runActivity(payments.chargePayment, input));
      assert.equal(failure.type, 'GatewayTimeout');
      assert.equal(failure.nonRetryable, false);
      const [charged] = await chargesAtGateway(input.orderId);
      assert.equal(charged?.status, 'succeeded', 'the money moved although the caller timed out');

      const { paymentId } = await runActivity(payments.chargePayment, input);
      assert.equal((await paymentRow(input.key)).id, paymentId);
      assert.equal((await paymentRow(input.key)).gatewayChargeId, charged.id);
      assert.equal((await chargesAtGateway(input.orderId)).length, 1);
    });

    test('a compensation that runs first fences the step: the late charge never reaches the gateway', async () => {
      const payments = activitiesWith();
      const input = newInput();
      assert.deepEqual(await runActivity(payments.refundPayment, { stepKey: input.key, orderId: input.orderId }), {
        refunded: false,
      });
      assert.equal(
        await rejectionOf(runActivity(payments.chargePayment, input)),
        rejectionTypes.stepAlreadyCompensated,
      );
      assert.deepEqual(await chargesAtGateway(input.orderId), []);
    });

    test('a compensation after a claimed charge that never reached the gateway charges nothing', async () => {
      const payments = activitiesWith();
      const input = newInput();
      // The claim is recorded, then the gateway is down: the charge's outcome is unknown to the service.
      await gateway.setFaults({ down: true });
      try {
        assert.equal((await failureOf(runActivity(payments.chargePayment, input))).nonRetryable, false);
      } finally {
        await gateway.setFaults({});
      }
      assert.equal((await paymentRow(input.key)).status, 'PENDING');

      // The refund looks the charge up by order (it never sends the charge again): there is none to refund.
      assert.deepEqual(await runActivity(payments.refundPayment, { stepKey: input.key, orderId: input.orderId }), {
        refunded: false,
      });
      assert.equal(
        await rejectionOf(runActivity(payments.chargePayment, input)),
        rejectionTypes.stepAlreadyCompensated,
      );
      assert.deepEqual(await chargesAtGateway(input.orderId), [], 'nothing charged, so nothing kept');
      assert.equal((await paymentRow(input.key)).status, 'PENDING');
    });

    test('the circuit breaker opens on a down gateway, fails fast, and closes when it is back', async () => {
      const breakAfterFailures = 3;
      const halfOpenAfterMs = 500;
      const gatewayClient = createGatewayClient({
        ...defaultGatewayClientOptions,
        breakAfterFailures,
        halfOpenAfterMs,
        baseUrl: gateway.url,
      });
      const payments = createPaymentsActivities(db, gatewayClient);
      await gateway.setFaults({ down: true });
      const types: (string | null | undefined)[] = [];
      const retryDelays: unknown[] = [];
      try {
        for (let call = 0; call < breakAfterFailures + 2; call += 1) {
          const failure = await failureOf(runActivity(payments.chargePayment, newInput()));
          types.push(failure.type);
          retryDelays.push(failure.nextRetryDelay);
        }
        assert.equal(gatewayClient.status().breaker, 'open');
      } finally {
        await gateway.setFaults({});
      }
      assert.deepEqual(types, [
        ...Array<string>(breakAfterFailures).fill('GatewayUnavailable'),
        'GatewayCircuitOpen',
        'GatewayCircuitOpen',
      ]);
      // Refused by the open breaker: retried when it lets a trial through (at least a second on), not on the backoff.
      assert.deepEqual(retryDelays.slice(0, breakAfterFailures), Array(breakAfterFailures).fill(undefined));
      for (const delay of retryDelays.slice(breakAfterFailures)) {
        assert.ok(
          typeof delay === 'number' && delay >= 1_000 && delay <= Math.max(halfOpenAfterMs, 1_000),
          String(delay),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, halfOpenAfterMs + 100));
      const input = newInput();
      await runActivity(payments.chargePayment, input);
      const status = gatewayClient.status();
      assert.equal(status.breaker, 'closed');
      assert.deepEqual(status.breakerTransitions, { open: 1, 'half-open': 1, closed: 1, isolated: 0 });
      assert.equal((await chargesAtGateway(input.orderId)).length, 1);
      console.log(`  breaker: ${JSON.stringify(status)}; failures seen by the activity: ${types.join(', ')}`);
    });

    test('late in a round of retries, an open breaker does not bring the retry sooner than the policy would', async () => {
      const gatewayClient = createGatewayClient({
        ...defaultGatewayClientOptions,
        breakAfterFailures: 1,
        halfOpenAfterMs: 60_000,
        baseUrl: gateway.url,
      });
      const payments = createPaymentsActivities(db, gatewayClient);
      // Attempt 5 of a later round of the saga's step retries (src/workflows/step-runner.ts): the policy waits 2 min.
      const lateAttempt = new MockActivityEnvironment({
        attempt: 5,
        retryPolicy: { initialInterval: '15s', backoffCoefficient: 2, maximumInterval: '2m' },
      });
      await gateway.setFaults({ down: true });
      try {
        assert.equal((await failureOf(runActivity(payments.chargePayment, newInput()))).type, 'GatewayUnavailable');
        const late = await failureOf(lateAttempt.run(payments.chargePayment, newInput()));
        assert.equal(late.type, 'GatewayCircuitOpen');
        assert.equal(late.nextRetryDelay, 120_000);
        // An early attempt gets the breaker's own wait, which is the longer one then.
        const early = await failureOf(runActivity(payments.chargePayment, newInput()));
        assert.ok(
          typeof early.nextRetryDelay === 'number' && early.nextRetryDelay > 55_000,
          String(early.nextRetryDelay),
        );
      } finally {
        await gateway.setFaults({});
      }
    });

    test("a card issuer's 503 is the card's trouble, not the gateway's: it never opens the breaker", async () => {
      const breakAfterFailures = 2;
      const gatewayClient = createGatewayClient({
        ...defaultGatewayClientOptions,
        breakAfterFailures,
        baseUrl: gateway.url,
      });
      const payments = createPaymentsActivities(db, gatewayClient);
      // Each tok_flaky key is answered 503 issuer_unavailable twice: more issuer failures in a row than the breaker allows.
      const inputs = Array.from({ length: breakAfterFailures + 1 }, () => newInput(paymentTokens.flaky));
      for (const input of inputs) {
        const failure = await failureOf(runActivity(payments.chargePayment, input));
        assert.equal(failure.type, 'CardIssuerUnavailable');
        assert.equal(failure.nonRetryable, false);
      }
      assert.equal(gatewayClient.status().breaker, 'closed');
      assert.equal(gatewayClient.status().breakerTransitions.open, 0);
      // An approved card right after is charged: nothing stopped other cards.
      const approved = newInput();
      await runActivity(payments.chargePayment, approved);
      assert.equal((await chargesAtGateway(approved.orderId)).length, 1);
    });
  });
}

describe('the gateway client', () => {
  test('a key still in use (409) fails retryably and does not count towards opening the breaker', async () => {
    // The gateway answers 409 only while a request under the same key is being
    // handled, a window of a few milliseconds; a server that always answers it
    // makes the case repeatable.
    const server = createServer((_request, response) => {
      response.writeHead(409, { 'content-type': 'application/problem+json' });
      response.end(
        JSON.stringify({
          type: 'idempotency_key_in_use',
          title: 'Idempotency key in use',
          status: 409,
          detail: 'A request with this Idempotency-Key is still being processed; retry shortly',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = createGatewayClient({
        ...defaultGatewayClientOptions,
        breakAfterFailures: 1,
        baseUrl: `http://127.0.0.1:${port}`,
      });
      const request = { amountCents: 100, currency: 'USD', orderId: 'ord_409', token: paymentTokens.approved };
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await assert.rejects(client.charge('ord-409:charge-payment', request), (error: unknown) => {
          assert.ok(error instanceof GatewayUnavailable);
          assert.equal(error.reason, 'key-in-use');
          return true;
        });
      }
      assert.equal(client.status().breaker, 'closed');
      assert.equal(client.status().breakerTransitions.open, 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a call that waits too long for a free slot fails as busy, without waiting for the slot', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gateway-queue-'));
    const gateway = await launchGateway({
      port: await freePort(),
      databaseUrl: `file:${path.join(dir, 'gateway.db')}`,
    });
    try {
      const latencyMs = 2_000;
      const maxQueueWaitMs = 300;
      await gateway.setFaults({ latencyMs });
      const client = createGatewayClient({
        ...defaultGatewayClientOptions,
        maxConcurrentCalls: 1,
        maxQueuedCalls: 2,
        maxQueueWaitMs,
        baseUrl: gateway.url,
      });
      const request = (orderId: string) => ({
        amountCents: 100,
        currency: 'USD',
        orderId,
        token: paymentTokens.approved,
      });
      const started = performance.now();
      const settled = await Promise.all(
        ['ord_q1', 'ord_q2', 'ord_q3'].map((orderId) =>
          client.charge(`${orderId}:charge-payment`, request(orderId)).then(
            () => ({ error: undefined, afterMs: performance.now() - started }),
            (error: unknown) => ({ error, afterMs: performance.now() - started }),
          ),
        ),
      );
      const [first, ...queued] = settled;
      assert.equal(first?.error, undefined);
      assert.ok((first?.afterMs ?? 0) >= latencyMs);
      for (const { error, afterMs } of queued) {
        assert.ok(error instanceof GatewayUnavailable, String(error));
        assert.equal(error.reason, 'bulkhead-full');
        // They gave up after their wait, not when the slot freed up (the gap is more than six-fold).
        assert.ok(afterMs < latencyMs, `gave up after ${Math.round(afterMs)} ms`);
      }
      assert.equal(client.status().breaker, 'closed', 'waiting for a slot says nothing about the gateway');
      await gateway.setFaults({});
      assert.deepEqual(
        await client.chargesOfOrder('ord_q2'),
        [],
        'a call that never got a slot never reached the gateway',
      );
    } finally {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
