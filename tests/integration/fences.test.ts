import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { compensationKeyOf } from '../../src/temporal/names';
import { createInventoryActivities } from '../../src/activities/inventory';
import { createOrdersActivities } from '../../src/activities/orders';
import { createPaymentsActivities } from '../../src/activities/payments';
import { createShippingActivities } from '../../src/activities/shipping';
import { type ServiceDatabases } from '../../src/db';
import { paymentTokens } from '../../src/domain/failure-triggers';
import { rejectionTypes } from '../../src/domain/rejections';
import { createCarrierClient, defaultCarrierClientOptions } from '../../src/partners/carrier-client';
import { type GatewayClient } from '../../src/partners/gateway-client';
import { providers, skipReason, migratedServiceDatabases, type Provider } from '../support/service-databases';
import { startGateway, type TestGateway } from '../support/partners';
import { runActivityQuietly } from '../support/run-activity';

/**
 * A step and its compensation started together, a few hundred times per
 * pair, against the real databases: on PostgreSQL at READ COMMITTED each
 * reads the other's idempotency record and writes its own rows, so without a
 * row both of them lock they can both commit (write skew) and leave a live
 * reservation, charge claim, shipment or order behind a compensation that
 * recorded "nothing to undo". After every round the rows are counted: either
 * the step took effect and the compensation undid it, or the compensation
 * found nothing and the step was refused.
 */

/** Pairs per step on PostgreSQL (where the race is real) and on SQLite (whose transactions begin IMMEDIATE). */
const rounds: Record<Provider, number> = { postgres: 200, sqlite: 20 };
/** Pairs in flight at once: enough to keep both sides of many pairs overlapping, within the pool of 10. */
const pairsInFlight = 4;

type Settled = PromiseSettledResult<unknown>;

/** How a pair ended: the step undone by its compensation, the step refused after it, or anything else. */
type Verdict = 'undone' | 'refused' | { broken: string };

const broken = (why: string): Verdict => ({ broken: why });

interface RaceFigures {
  pairs: number;
  /** The step took effect and its compensation undid it. */
  undone: number;
  /** The compensation found nothing and the step was refused. */
  refused: number;
  /** Anything else: an effect left live behind a recorded compensation, or an unexpected failure. */
  broken: string[];
}

function refusedAsCompensated(result: Settled): boolean {
  return (
    result.status === 'rejected' &&
    result.reason instanceof ApplicationFailure &&
    result.reason.type === rejectionTypes.stepAlreadyCompensated
  );
}

function describeFailure(result: Settled): string {
  if (result.status === 'fulfilled') return 'ok';
  const reason: unknown = result.reason;
  return reason instanceof ApplicationFailure ? `${reason.type ?? 'failure'}: ${reason.message}` : String(reason);
}

/** Retries what Temporal would retry (any failure but a non-retryable one), a few times, shortly after. */
async function withRetries<T>(attempt: () => Promise<T>, attempts = 6): Promise<T> {
  for (let tried = 1; ; tried += 1) {
    try {
      return await attempt();
    } catch (error) {
      const final = error instanceof ApplicationFailure && error.nonRetryable;
      if (final || tried >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * tried));
    }
  }
}

/**
 * Runs `pair(i)` for every round, `pairsInFlight` at a time; odd rounds start
 * the compensation first, so both orders of arrival are tried.
 */
async function race(
  count: number,
  pair: (round: number) => { step: () => Promise<unknown>; compensation: () => Promise<unknown> },
  judge: (round: number, step: Settled, compensation: Settled) => Promise<Verdict>,
): Promise<RaceFigures> {
  const figures: RaceFigures = { pairs: count, undone: 0, refused: 0, broken: [] };
  for (let first = 0; first < count; first += pairsInFlight) {
    const batch = Array.from({ length: Math.min(pairsInFlight, count - first) }, (_, offset) => first + offset);
    await Promise.all(
      batch.map(async (round) => {
        const sides = pair(round);
        const step = () => withRetries(sides.step);
        const compensation = () => withRetries(sides.compensation);
        const [stepResult, compensationResult] =
          round % 2 === 0
            ? await Promise.allSettled([step(), compensation()])
            : await Promise.allSettled([compensation(), step()]).then(([c, s]) => [s, c] as const);
        const verdict = await judge(round, stepResult, compensationResult);
        if (verdict === 'undone') figures.undone += 1;
        else if (verdict === 'refused') figures.refused += 1;
        else figures.broken.push(`round ${round}: ${verdict.broken}`);
      }),
    );
  }
  return figures;
}

function report(name: string, provider: Provider, figures: RaceFigures): void {
  console.log(
    `  ${name} on ${provider}: ${figures.pairs} pairs, ${figures.undone} undone, ${figures.refused} refused, ` +
      `${figures.broken.length} broken`,
  );
  assert.deepEqual(figures.broken.slice(0, 5), [], `${figures.broken.length} of ${figures.pairs} pairs broke`);
}

for (const provider of providers) {
  const skip = skipReason(provider);

  describe(`a step and its compensation racing on ${provider}`, { skip }, () => {
    let db: ServiceDatabases;
    let close: () => Promise<void>;
    let gateway: TestGateway | undefined;
    let gatewayClient: GatewayClient;
    const count = rounds[provider];
    const keyOf = (round: number, step: string) => `order-fence-${provider}-${round}:${step}`;

    /** The compensation's stored answer, which fences the step. */
    async function compensationRecord(records: ServiceDatabases[keyof ServiceDatabases], stepKey: string) {
      const record = await records.idempotencyRecord.findUnique({ where: { key: compensationKeyOf(stepKey) } });
      return record ? (JSON.parse(record.response) as { ok: boolean; value?: unknown }) : null;
    }

    before(async () => {
      ({ db, close } = await migratedServiceDatabases(provider));
      gateway = await startGateway();
      gatewayClient = gateway.client;
    });

    after(async () => {
      await close?.();
      await gateway?.stop();
    });

    test('reserve-stock and release-stock: no reservation holds stock, every unit is back', async () => {
      const inventory = createInventoryActivities(db.inventory);
      const sku = 'SKU-MUG';
      const before = (await db.inventory.product.findUniqueOrThrow({ where: { sku } })).available;
      const figures = await race(
        count,
        (round) => {
          const key = keyOf(round, 'reserve-stock');
          const orderId = `ord_fence_${provider}_${round}`;
          return {
            step: () => runActivityQuietly(inventory.reserveStock, { key, orderId, items: [{ sku, quantity: 1 }] }),
            compensation: () => runActivityQuietly(inventory.releaseStock, { stepKey: key, orderId }),
          };
        },
        async (round, step, compensation) => {
          const key = keyOf(round, 'reserve-stock');
          if (compensation.status === 'rejected') return broken(`release failed: ${describeFailure(compensation)}`);
          const reservation = await db.inventory.reservation.findUnique({ where: { key } });
          if (step.status === 'fulfilled') {
            return reservation?.status === 'RELEASED' ? 'undone' : broken(`reserved, then left ${reservation?.status}`);
          }
          if (!refusedAsCompensated(step)) return broken(`reserve failed: ${describeFailure(step)}`);
          return reservation ? broken(`refused, yet a reservation is ${reservation.status}`) : 'refused';
        },
      );
      const afterwards = (await db.inventory.product.findUniqueOrThrow({ where: { sku } })).available;
      report('reserve-stock/release-stock', provider, figures);
      assert.equal(afterwards, before, 'every unit reserved was released');
    });

    test('charge claim and refund: no claim survives a compensation that found none, no charge is kept', async () => {
      const payments = createPaymentsActivities(db.payments, gatewayClient);
      // Pairs whose refund found no charge yet, and whose charge, landing after it, its own attempt refunded.
      let returnedByTheirAttempt = 0;
      const figures = await race(
        count,
        (round) => {
          const key = keyOf(round, 'charge-payment');
          const orderId = `ord_fence_${provider}_${round}`;
          return {
            step: () =>
              runActivityQuietly(payments.chargePayment, {
                key,
                orderId,
                amountCents: 1_000,
                paymentToken: paymentTokens.approved,
              }),
            compensation: () => runActivityQuietly(payments.refundPayment, { stepKey: key, orderId }),
          };
        },
        async (round, step, compensation) => {
          const key = keyOf(round, 'charge-payment');
          const orderId = `ord_fence_${provider}_${round}`;
          if (compensation.status === 'rejected') return broken(`refund failed: ${describeFailure(compensation)}`);
          if (step.status === 'rejected' && !refusedAsCompensated(step)) {
            return broken(`charge failed: ${describeFailure(step)}`);
          }
          const payment = await db.payments.payment.findUnique({ where: { key } });
          const recorded = await compensationRecord(db.payments, key);
          const kept = (await gatewayClient.chargesOfOrder(orderId)).filter(
            (charge) => charge.status === 'succeeded' && charge.refundedCents < charge.amountCents,
          );
          if (kept.length > 0) return broken(`the gateway kept ${kept.map((charge) => charge.id).join(', ')}`);
          if (recorded?.ok && !recorded.value && payment) {
            return broken(`the refund recorded no claim, yet a payment is ${payment.status}`);
          }
          if (!payment) return refusedAsCompensated(step) ? 'refused' : broken('charged without a payment row');
          if (payment.status !== 'REFUNDED') return broken(`charged, then left ${payment.status}`);
          if (compensation.status === 'fulfilled' && !(compensation.value as { refunded: boolean }).refunded) {
            returnedByTheirAttempt += 1;
          }
          return 'undone';
        },
      );
      console.log(
        `  charges that landed after their refund looked, refunded by their own attempt: ${returnedByTheirAttempt}`,
      );
      report('charge-payment/refund-payment', provider, figures);
    });

    test('create-shipment and cancel-shipment: no shipment stays CREATED', async () => {
      // A carrier that cannot be reached: the step ships at the flat rate at once, so the race is the database's.
      const carrier = createCarrierClient({ ...defaultCarrierClientOptions, baseUrl: 'http://127.0.0.1:9' });
      const shipping = createShippingActivities(db.shipping, carrier);
      const address = { recipient: 'Ada', line1: '1 Loop St', city: 'Springfield', postalCode: '12345', country: 'US' };
      const figures = await race(
        count,
        (round) => {
          const key = keyOf(round, 'create-shipment');
          const orderId = `ord_fence_${provider}_${round}`;
          return {
            step: () => runActivityQuietly(shipping.createShipment, { key, orderId, address, itemCount: 1 }),
            compensation: () => runActivityQuietly(shipping.cancelShipment, { stepKey: key, orderId }),
          };
        },
        async (round, step, compensation) => {
          const key = keyOf(round, 'create-shipment');
          if (compensation.status === 'rejected') return broken(`cancel failed: ${describeFailure(compensation)}`);
          const shipment = await db.shipping.shipment.findUnique({ where: { key } });
          if (step.status === 'fulfilled') {
            return shipment?.status === 'CANCELLED' ? 'undone' : broken(`shipped, then left ${shipment?.status}`);
          }
          if (!refusedAsCompensated(step)) return broken(`ship failed: ${describeFailure(step)}`);
          return shipment ? broken(`refused, yet a shipment is ${shipment.status}`) : 'refused';
        },
      );
      report('create-shipment/cancel-shipment', provider, figures);
    });

    test('create-order and cancel-order: no order stays PENDING', async () => {
      const orders = createOrdersActivities(db.orders);
      const figures = await race(
        count,
        (round) => {
          const key = keyOf(round, 'create-order');
          const orderId = `ord_fence_${provider}_${round}`;
          return {
            step: () =>
              runActivityQuietly(orders.createOrder, {
                key,
                orderId,
                workflowId: `wf-${orderId}`,
                customerId: 'cus_fence',
                items: [{ sku: 'SKU-MUG', quantity: 1 }],
              }),
            compensation: () => runActivityQuietly(orders.cancelOrder, { stepKey: key, orderId, reason: 'fence test' }),
          };
        },
        async (round, step, compensation) => {
          const orderId = `ord_fence_${provider}_${round}`;
          if (compensation.status === 'rejected') return broken(`cancel failed: ${describeFailure(compensation)}`);
          const order = await db.orders.order.findUnique({ where: { id: orderId } });
          if (step.status === 'fulfilled') {
            return order?.status === 'CANCELLED' ? 'undone' : broken(`created, then left ${order?.status}`);
          }
          if (!refusedAsCompensated(step)) return broken(`create failed: ${describeFailure(step)}`);
          return order ? broken(`refused, yet the order is ${order.status}`) : 'refused';
        },
      );
      report('create-order/cancel-order', provider, figures);
    });
  });
}
