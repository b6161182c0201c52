import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@libsql/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { compensationKeyOf } from '../../src/temporal/names';
import { createPaymentsActivities, type ChargePaymentInput } from '../../src/activities/payments';
import { type PaymentsDb } from '../../src/db';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import {
  GatewayUnavailable,
  createGatewayClient,
  defaultGatewayClientOptions,
  type GatewayClient,
  type GatewayClientOptions,
} from '../../src/partners/gateway-client';
import { type GatewayProcess } from '../../simulators/launch';
import { failureOf, rejectionOf, runActivity } from '../support/run-activity';
import { providers, skipReason, migratedServiceDatabase } from '../support/service-databases';
import { startGateway, type TestGateway } from '../support/partners';

/**
 * refund-payment against the real payments database and the real gateway
 * process: it never sends a charge request (which would make a charge when
 * the original never arrived, and is refused once the gateway has forgotten
 * the key), it refunds a recorded charge by its gateway id, finds an
 * unrecorded one by order, and a charge that lands after the refund looked is
 * returned by the attempt that made it.
 */

/**
 * A gateway client that counts the charge requests it sends, may hold them
 * until `release()`, and may fail its first refunds as a gateway answering 503.
 */
function watchedClient(client: GatewayClient, { held = false, failedRefunds = 0 } = {}) {
  const chargeRequests: string[] = [];
  let refundRequests = 0;
  let release: () => void = () => undefined;
  const gate = held ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  const watched: GatewayClient = {
    ...client,
    charge: async (...args) => {
      chargeRequests.push(args[0]);
      await gate;
      return client.charge(...args);
    },
    refund: async (...args) => {
      refundRequests += 1;
      if (refundRequests <= failedRefunds) {
        throw new GatewayUnavailable('Payment gateway answered 503: a test fault', 'server-error');
      }
      return client.refund(...args);
    },
  };
  return { client: watched, chargeRequests, release: () => release(), refundRequests: () => refundRequests };
}

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`refunds through the gateway on ${provider}`, { skip }, () => {
    let db: PaymentsDb;
    let partner: TestGateway | undefined;
    let gateway: GatewayProcess;
    let close: () => Promise<void>;
    let sequence = 0;
    const newInput = (paymentToken: string = paymentTokens.approved): ChargePaymentInput => {
      const key = `order-refund-${provider}-${++sequence}:charge-payment`;
      return { key, orderId: `ord_refund_${provider}_${sequence}`, amountCents: 2_500, paymentToken };
    };
    const clientWith = (options: Partial<GatewayClientOptions> = {}) =>
      createGatewayClient({ ...defaultGatewayClientOptions, ...options, baseUrl: gateway.url });
    const refundOf = (input: ChargePaymentInput) => ({ stepKey: input.key, orderId: input.orderId });
    const paymentRow = (key: string) => db.payment.findUniqueOrThrow({ where: { key } });
    const chargesAtGateway = (orderId: string) => clientWith().chargesOfOrder(orderId);

    /** As the gateway is after its key retention: the charges stay, the answers stored under their keys are gone. */
    async function forgetGatewayKeys(): Promise<void> {
      const store = createClient({ url: `file:${partner!.databaseFile}` });
      try {
        await store.execute('PRAGMA busy_timeout = 5000');
        await store.execute('DELETE FROM idempotency_keys');
      } finally {
        store.close();
      }
    }

    /** A charge claimed while the gateway was down: the request never reached it. */
    async function claimWithoutCharge(input: ChargePaymentInput): Promise<void> {
      const payments = createPaymentsActivities(db, clientWith());
      await gateway.setFaults({ down: true });
      try {
        assert.equal((await failureOf(runActivity(payments.chargePayment, input))).nonRetryable, false);
      } finally {
        await gateway.setFaults({});
      }
      assert.equal((await paymentRow(input.key)).status, 'PENDING');
    }

    before(async () => {
      ({ db, close } = await migratedServiceDatabase(provider, 'payments'));
      partner = await startGateway();
      gateway = partner.process;
    });

    after(async () => {
      await close?.();
      await partner?.stop();
    });

    test('a charge that never reached the gateway: nothing to refund, and nothing is charged', async () => {
      const input = newInput();
      await claimWithoutCharge(input);

      const watched = watchedClient(clientWith());
      const payments = createPaymentsActivities(db, watched.client);
      assert.deepEqual(await runActivity(payments.refundPayment, refundOf(input)), { refunded: false });
      assert.deepEqual(watched.chargeRequests, [], 'the refund sent no charge request');
      assert.deepEqual(await chargesAtGateway(input.orderId), []);
      assert.ok(
        await db.idempotencyRecord.findUnique({ where: { key: compensationKeyOf(input.key) } }),
        'the compensation is recorded',
      );
      assert.equal((await paymentRow(input.key)).status, 'PENDING', 'no money moved either way');

      // The recorded compensation refuses a late retry of the step, and a repeated refund answers the same.
      assert.equal(
        await rejectionOf(runActivity(payments.chargePayment, input)),
        rejectionTypes.stepAlreadyCompensated,
      );
      assert.deepEqual(await runActivity(payments.refundPayment, refundOf(input)), { refunded: false });
      assert.deepEqual(watched.chargeRequests, []);
      assert.deepEqual(await chargesAtGateway(input.orderId), []);
    });

    test('a recorded charge is refunded by its gateway id, even after the gateway forgot its key', async () => {
      const input = newInput();
      await runActivity(createPaymentsActivities(db, clientWith()).chargePayment, input);
      const charged = await paymentRow(input.key);
      assert.equal(charged.status, 'CHARGED');
      await forgetGatewayKeys();

      const watched = watchedClient(clientWith());
      const payments = createPaymentsActivities(db, watched.client);
      assert.deepEqual(await runActivity(payments.refundPayment, refundOf(input)), { refunded: true });
      assert.deepEqual(watched.chargeRequests, [], 'the gateway saw no second charge request');
      const charges = await chargesAtGateway(input.orderId);
      assert.deepEqual(
        charges.map(({ id, refundedCents }) => ({ id, refundedCents })),
        [{ id: charged.gatewayChargeId, refundedCents: input.amountCents }],
      );
      const refunded = await paymentRow(input.key);
      assert.equal(refunded.status, 'REFUNDED');
      assert.match(refunded.gatewayRefundId ?? '', /^re_/);
    });

    test('a charge still PENDING here but made at the gateway is found by order and refunded', async () => {
      const input = newInput(paymentTokens.timeoutAfterCharge);
      const timedOut = await failureOf(
        runActivity(createPaymentsActivities(db, clientWith({ callTimeoutMs: 1_000 })).chargePayment, input),
      );
      assert.equal(timedOut.type, 'GatewayTimeout');
      assert.equal((await paymentRow(input.key)).status, 'PENDING');
      const [made] = await chargesAtGateway(input.orderId);
      assert.equal(made?.status, 'succeeded', 'the money moved although the caller timed out');

      const watched = watchedClient(clientWith());
      const payments = createPaymentsActivities(db, watched.client);
      assert.deepEqual(await runActivity(payments.refundPayment, refundOf(input)), { refunded: true });
      assert.deepEqual(watched.chargeRequests, [], 'looked up by order, not by sending the charge again');
      const charges = await chargesAtGateway(input.orderId);
      assert.equal(charges.length, 1);
      assert.equal(charges[0]?.refundedCents, input.amountCents);
      const refunded = await paymentRow(input.key);
      assert.equal(refunded.status, 'REFUNDED');
      assert.equal(refunded.gatewayChargeId, made.id);
    });

    test('a charge that lands after the refund looked is refunded by the attempt that made it', async () => {
      const input = newInput();
      // The attempt claims, then its request is held on the way to the gateway.
      const late = watchedClient(clientWith(), { held: true });
      const charging = runActivity(createPaymentsActivities(db, late.client).chargePayment, input);
      charging.catch(() => undefined);
      while (late.chargeRequests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal((await paymentRow(input.key)).status, 'PENDING');

      const watched = watchedClient(clientWith());
      const payments = createPaymentsActivities(db, watched.client);
      assert.deepEqual(await runActivity(payments.refundPayment, refundOf(input)), { refunded: false });
      assert.deepEqual(watched.chargeRequests, []);
      assert.deepEqual(await chargesAtGateway(input.orderId), [], 'nothing at the gateway yet');

      late.release();
      assert.equal(await rejectionOf(charging), rejectionTypes.stepAlreadyCompensated);
      const charges = await chargesAtGateway(input.orderId);
      assert.equal(charges.length, 1, 'the late request made its charge');
      assert.equal(charges[0]?.refundedCents, input.amountCents, 'and its attempt refunded it');
      assert.equal((await paymentRow(input.key)).status, 'REFUNDED');
      assert.deepEqual(await runActivity(payments.refundPayment, refundOf(input)), { refunded: true });
    });

    test('a late charge whose refund the gateway fails at first is still refunded by its attempt', async () => {
      const input = newInput();
      const late = watchedClient(clientWith(), { held: true, failedRefunds: 2 });
      const charging = runActivity(createPaymentsActivities(db, late.client).chargePayment, input);
      charging.catch(() => undefined);
      while (late.chargeRequests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const payments = createPaymentsActivities(db, clientWith());
      assert.deepEqual(await runActivity(payments.refundPayment, refundOf(input)), { refunded: false });

      late.release();
      assert.equal(await rejectionOf(charging), rejectionTypes.stepAlreadyCompensated);
      assert.equal(late.refundRequests(), 3, 'two 503s, then the refund');
      const charges = await chargesAtGateway(input.orderId);
      assert.equal(charges.length, 1);
      assert.equal(charges[0]?.refundedCents, input.amountCents);
      assert.equal((await paymentRow(input.key)).status, 'REFUNDED');
    });

    test("a refund's gateway calls end within its activity's start-to-close timeout", async () => {
      const input = newInput();
      await claimWithoutCharge(input);
      const startToCloseTimeoutMs = 2_000;
      const payments = createPaymentsActivities(db, clientWith());
      await gateway.setFaults({ latencyMs: 3_000 });
      try {
        const started = performance.now();
        const failure = await failureOf(
          new MockActivityEnvironment({ startToCloseTimeoutMs }).run(payments.refundPayment, refundOf(input)),
        );
        const tookMs = performance.now() - started;
        assert.equal(failure.type, 'GatewayTimeout');
        assert.equal(failure.nonRetryable, false);
        assert.ok(tookMs < startToCloseTimeoutMs, `the attempt took ${Math.round(tookMs)} ms`);
      } finally {
        await gateway.setFaults({});
      }
      assert.deepEqual(await runActivity(payments.refundPayment, refundOf(input)), { refunded: false });
      assert.deepEqual(await chargesAtGateway(input.orderId), []);
    });
  });
}
