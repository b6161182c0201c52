import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { InventoryActivities } from '../../src/activities/inventory';
import type { OrdersActivities } from '../../src/activities/orders';
import type { PaymentsActivities } from '../../src/activities/payments';
import type { ShippingActivities } from '../../src/activities/shipping';
import type { ServiceName } from '../../src/temporal/names';

export type ActivityName =
  keyof OrdersActivities | keyof InventoryActivities | keyof PaymentsActivities | keyof ShippingActivities;

/** How one activity behaves for one order. */
export type Behaviour =
  | { kind: 'reject'; type: string }
  /** Throws a retryable error on its first `attempts` attempts, then succeeds. */
  | { kind: 'transient'; attempts: number }
  /** Throws a retryable error on every attempt until `until()` turns true. */
  | { kind: 'failing'; until?: () => boolean };

export interface ScriptedCall {
  activity: ActivityName;
  attempt: number;
  outcome: 'ok' | 'error';
}

/**
 * Stand-ins for the four services in workflow tests: each order id gets a
 * script of behaviours, and every call is journalled so a test can assert
 * which steps and compensations ran, and in which order.
 */
export class ScriptedServices {
  private readonly scripts = new Map<string, Partial<Record<ActivityName, Behaviour>>>();
  private readonly journal = new Map<string, ScriptedCall[]>();

  script(orderId: string, behaviours: Partial<Record<ActivityName, Behaviour>>): void {
    this.scripts.set(orderId, behaviours);
  }

  /** The successful calls for an order, in order. */
  completed(orderId: string): ActivityName[] {
    return (this.journal.get(orderId) ?? []).filter((call) => call.outcome === 'ok').map((call) => call.activity);
  }

  calls(orderId: string, activity: ActivityName): ScriptedCall[] {
    return (this.journal.get(orderId) ?? []).filter((call) => call.activity === activity);
  }

  private run<T>(orderId: string, activity: ActivityName, result: T): T {
    const attempt = Context.current().info.attempt;
    const behaviour = this.scripts.get(orderId)?.[activity];
    const record = (outcome: ScriptedCall['outcome']) => {
      const calls = this.journal.get(orderId) ?? [];
      calls.push({ activity, attempt, outcome });
      this.journal.set(orderId, calls);
    };
    if (behaviour?.kind === 'reject') {
      record('error');
      throw ApplicationFailure.nonRetryable(`${activity} rejected by script`, behaviour.type);
    }
    if (
      (behaviour?.kind === 'transient' && attempt <= behaviour.attempts) ||
      (behaviour?.kind === 'failing' && !(behaviour.until?.() ?? false))
    ) {
      record('error');
      throw ApplicationFailure.retryable(`${activity} failed transiently (attempt ${attempt})`, 'ScriptedOutage');
    }
    record('ok');
    return result;
  }

  activities(): Record<ServiceName, object> {
    const orders: OrdersActivities = {
      createOrder: async ({ orderId }) => this.run(orderId, 'createOrder', { orderId }),
      cancelOrder: async ({ orderId }) => this.run(orderId, 'cancelOrder', { cancelled: true }),
      confirmOrder: async ({ orderId }) => this.run(orderId, 'confirmOrder', { confirmed: true as const }),
    };
    const inventory: InventoryActivities = {
      reserveStock: async ({ orderId, items }) => {
        const lines = items.map(({ sku, quantity }) => ({
          sku,
          quantity,
          unitPriceCents: sku === 'SKU-LAPTOP' ? 149_900 : 1_200,
        }));
        const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
        return this.run(orderId, 'reserveStock', { reservationId: `res_${orderId}`, lines, totalCents });
      },
      commitReservation: async ({ orderId }) => this.run(orderId, 'commitReservation', { committed: true as const }),
      releaseStock: async ({ orderId }) => this.run(orderId, 'releaseStock', { released: true }),
    };
    const payments: PaymentsActivities = {
      chargePayment: async ({ orderId }) => this.run(orderId, 'chargePayment', { paymentId: `pay_${orderId}` }),
      refundPayment: async ({ orderId }) => this.run(orderId, 'refundPayment', { refunded: true }),
    };
    const shipping: ShippingActivities = {
      createShipment: async ({ orderId }) =>
        this.run(orderId, 'createShipment', {
          shipmentId: `shp_${orderId}`,
          carrier: 'Parcelwise',
          trackingNumber: 'PW1',
          rate: { source: 'carrier-quote', amountCents: 649, quoteId: `qt_${orderId}`, service: 'ground' },
        }),
      cancelShipment: async ({ orderId }) => this.run(orderId, 'cancelShipment', { cancelled: true }),
    };
    return { orders, inventory, payments, shipping };
  }
}
