import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { createInventoryActivities } from '../activities/inventory';
import { createOrdersActivities } from '../activities/orders';
import { createPaymentsActivities } from '../activities/payments';
import { createShippingActivities } from '../activities/shipping';
import type { ServiceDatabases } from '../db';
import type { CarrierClient } from '../partners/carrier-client';
import type { GatewayClient } from '../partners/gateway-client';
import { taskQueues, type ServiceName } from '../temporal/names';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The outside partners the services call. */
export interface ServicePartners {
  gateway: GatewayClient;
  carrier: CarrierClient;
}

const activityFactories: { [S in ServiceName]: (db: ServiceDatabases[S], partners: ServicePartners) => object } = {
  orders: (db) => createOrdersActivities(db),
  inventory: (db) => createInventoryActivities(db),
  payments: (db, { gateway }) => createPaymentsActivities(db, gateway),
  shipping: (db, { carrier }) => createShippingActivities(db, carrier),
};

/** The activities a service's worker runs, bound to that service's database and partners. */
export function serviceActivities<S extends ServiceName>(
  service: S,
  db: ServiceDatabases[S],
  partners: ServicePartners,
): object {
  return activityFactories[service](db, partners);
}

export interface ServiceWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** A prebuilt bundle (tests build one once); otherwise the orders worker bundles at start. */
  workflowBundle?: WorkflowBundle;
  /** Overrides the service's own queue (tests give each test its own). */
  taskQueue?: string;
  /** Activities run at once (default: the SDK's). */
  activitySlots?: number;
}

/**
 * One worker per service, polling only that service's task queue and running
 * only its activities, so a service can be scaled or restarted on its own.
 * The orders worker also runs the order workflow.
 */
export function createServiceWorker(
  service: ServiceName,
  activities: object,
  { connection, namespace, workflowBundle, taskQueue, activitySlots }: ServiceWorkerOptions,
): Promise<Worker> {
  const workflows = service === 'orders' ? (workflowBundle ? { workflowBundle } : { workflowsPath }) : {};
  return Worker.create({
    connection,
    namespace,
    taskQueue: taskQueue ?? taskQueues[service],
    activities,
    ...workflows,
    ...(activitySlots === undefined ? {} : { maxConcurrentActivityTaskExecutions: activitySlots }),
  });
}
