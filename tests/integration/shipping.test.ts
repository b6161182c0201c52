import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createShippingActivities, type CreateShipmentInput } from '../../src/activities/shipping';
import { type ShippingDb } from '../../src/db';
import { undeliverablePostalCode } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import { rateCents } from '../../simulators/carrier/app';
import {
  CarrierRefusal,
  createCarrierClient,
  defaultCarrierClientOptions,
  type CarrierClientOptions,
} from '../../src/partners/carrier-client';
import { launchCarrier, type CarrierProcess } from '../../simulators/launch';
import { freePort } from '../../src/net/ports';
import { rejectionOf, runActivity } from '../support/run-activity';
import { providers, skipReason, migratedServiceDatabase } from '../support/service-databases';
import { startCarrier } from '../support/partners';
import { springfieldAddress as address } from '../support/sample-orders';

/**
 * The shipping activities against their real database and the real carrier
 * process. The carrier's quote prices the parcel; when the carrier is down,
 * slow or its breaker is open, the parcel ships at the flat rate and the
 * shipment says so. What the carrier decides about an address is never
 * replaced by the fallback.
 */

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`shipping with the carrier on ${provider}`, { skip }, () => {
    let db: ShippingDb;
    let carrier: CarrierProcess;
    let close: () => Promise<void>;
    let sequence = 0;
    const newInput = (overrides: Partial<CreateShipmentInput> = {}): CreateShipmentInput => {
      const key = `order-ship-${provider}-${++sequence}:create-shipment`;
      return { key, orderId: `ord_ship_${provider}_${sequence}`, address, itemCount: 3, ...overrides };
    };
    const activitiesWith = (options: Partial<CarrierClientOptions> = {}) => {
      const client = createCarrierClient({ ...defaultCarrierClientOptions, baseUrl: carrier.url, ...options });
      return { client, shipping: createShippingActivities(db, client) };
    };
    const shipmentRow = (key: string) => db.shipment.findUniqueOrThrow({ where: { key } });

    before(async () => {
      ({ db, close } = await migratedServiceDatabase(provider, 'shipping'));
      carrier = (await startCarrier()).process;
    });

    after(async () => {
      await close?.();
      await carrier?.stop();
    });

    test("ships once at the carrier's quote, recorded on the shipment; cancels once", async () => {
      const { shipping } = activitiesWith();
      const input = newInput();
      const first = await runActivity(shipping.createShipment, input);
      assert.deepEqual(
        await runActivity(shipping.createShipment, input),
        first,
        'a repeat answers the stored shipment',
      );
      assert.equal(first.rate.source, 'carrier-quote');
      assert.equal(first.rate.amountCents, rateCents({ country: 'US', itemCount: 3 }));

      const row = await shipmentRow(input.key);
      assert.equal(await db.shipment.count({ where: { key: input.key } }), 1);
      assert.deepEqual(
        [row.rateSource, row.rateCents, row.rateQuoteId, row.rateNote],
        [
          'carrier-quote',
          first.rate.amountCents,
          first.rate.source === 'carrier-quote' ? first.rate.quoteId : '',
          null,
        ],
      );

      await runActivity(shipping.cancelShipment, { stepKey: input.key, orderId: input.orderId });
      await runActivity(shipping.cancelShipment, { stepKey: input.key, orderId: input.orderId });
      assert.equal((await shipmentRow(input.key)).status, 'CANCELLED');
    });

    test('the carrier is down (503): the parcel ships at the flat rate, and the shipment says why', async () => {
      const { shipping } = activitiesWith();
      await carrier.setFaults({ down: true });
      try {
        const input = newInput();
        const shipment = await runActivity(shipping.createShipment, input);
        assert.deepEqual(shipment.rate, {
          source: 'flat-rate',
          amountCents: defaultCarrierClientOptions.flatRateCents,
          reason: 'carrier answered 503',
        });
        const row = await shipmentRow(input.key);
        assert.deepEqual(
          [row.status, row.rateSource, row.rateCents, row.rateQuoteId, row.rateNote],
          ['CREATED', 'flat-rate', defaultCarrierClientOptions.flatRateCents, null, 'carrier answered 503'],
        );
      } finally {
        await carrier.setFaults({});
      }
    });

    test('the carrier is unreachable: flat rate', async () => {
      const { shipping } = activitiesWith({ baseUrl: `http://127.0.0.1:${await freePort()}` });
      const shipment = await runActivity(shipping.createShipment, newInput());
      assert.equal(shipment.rate.source, 'flat-rate');
      assert.match(shipment.rate.source === 'flat-rate' ? shipment.rate.reason : '', /^carrier unreachable/);
    });

    test('the carrier is slower than the quote timeout: flat rate after the timeout, not after the carrier', async () => {
      const quoteTimeoutMs = 300;
      const latencyMs = 5_000;
      const { shipping } = activitiesWith({ quoteTimeoutMs });
      await carrier.setFaults({ latencyMs });
      try {
        const started = performance.now();
        const shipment = await runActivity(shipping.createShipment, newInput());
        const elapsed = performance.now() - started;
        assert.deepEqual(shipment.rate, {
          source: 'flat-rate',
          amountCents: defaultCarrierClientOptions.flatRateCents,
          reason: `no quote within ${quoteTimeoutMs} ms`,
        });
        // The gap between the two is more than ten-fold, so a busy machine does not blur it.
        assert.ok(elapsed < latencyMs / 2, `took ${Math.round(elapsed)} ms; the carrier's latency is ${latencyMs} ms`);
      } finally {
        await carrier.setFaults({});
      }
    });

    test('after failures in a row the breaker opens: flat rate without asking; then quotes again', async () => {
      const breakAfterFailures = 2;
      const halfOpenAfterMs = 400;
      const { shipping, client } = activitiesWith({ breakAfterFailures, halfOpenAfterMs });
      await carrier.setFaults({ down: true });
      const reasons: string[] = [];
      try {
        for (let call = 0; call < breakAfterFailures + 1; call += 1) {
          const { rate } = await runActivity(shipping.createShipment, newInput());
          reasons.push(rate.source === 'flat-rate' ? rate.reason : rate.source);
        }
        assert.equal(client.status().breaker, 'open');
      } finally {
        await carrier.setFaults({});
      }
      assert.deepEqual(reasons, ['carrier answered 503', 'carrier answered 503', 'carrier circuit open']);
      await new Promise((resolve) => setTimeout(resolve, halfOpenAfterMs + 100));
      const { rate } = await runActivity(shipping.createShipment, newInput());
      assert.equal(rate.source, 'carrier-quote');
      assert.deepEqual(client.status(), { breaker: 'closed', quotes: 1, flatRates: 3 });
    });

    test('an undeliverable address is rejected, carrier or no carrier: no fallback ships it', async () => {
      const undeliverable = { ...address, postalCode: undeliverablePostalCode };
      const up = activitiesWith().shipping;
      const down = activitiesWith({ baseUrl: `http://127.0.0.1:${await freePort()}` }).shipping;
      for (const shipping of [up, down]) {
        const input = newInput({ address: undeliverable });
        assert.equal(
          await rejectionOf(runActivity(shipping.createShipment, input)),
          rejectionTypes.addressUndeliverable,
        );
        assert.equal(await db.shipment.count({ where: { key: input.key } }), 0);
      }
    });

    test('a rate request the carrier cannot read (400) fails without retry and without a fallback', async () => {
      const { shipping } = activitiesWith();
      const input = newInput({ itemCount: 0 });
      try {
        await runActivity(shipping.createShipment, input);
        assert.fail('expected a failure');
      } catch (error) {
        assert.ok(error instanceof ApplicationFailure, String(error));
        assert.equal(error.type, 'CarrierRefusal');
        assert.equal(error.nonRetryable, true);
      }
      assert.equal(await db.shipment.count({ where: { key: input.key } }), 0);
    });
  });
}

describe('the carrier client', () => {
  let carrier: CarrierProcess;
  before(async () => {
    carrier = await launchCarrier({ port: await freePort() });
  });
  after(async () => {
    await carrier?.stop();
  });

  test("the carrier's own refusal (422 undeliverable) is thrown, never priced over", async () => {
    const client = createCarrierClient({ ...defaultCarrierClientOptions, baseUrl: carrier.url });
    await assert.rejects(
      client.quote({ postalCode: undeliverablePostalCode, country: 'US', itemCount: 1 }),
      (error: unknown) => error instanceof CarrierRefusal && error.problem.status === 422,
    );
    assert.deepEqual(client.status(), { breaker: 'closed', quotes: 0, flatRates: 0 });
  });
});
