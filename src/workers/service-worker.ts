import { fileURLToPath } from 'node:url';
import type { DataConverter, WorkerDeploymentVersion } from '@temporalio/common';
import {
  bundleWorkflowCode,
  Worker,
  type Logger,
  type NativeConnection,
  type WorkflowBundle,
} from '@temporalio/worker';
import { createInventoryActivities } from '../activities/inventory';
import { createOrdersActivities } from '../activities/orders';
import { createPaymentsActivities } from '../activities/payments';
import { createShippingActivities } from '../activities/shipping';
import type { ServiceDatabases } from '../db';
import { activityLogContext } from '../interceptors/activity-log-context';
import { orderWorkflowInterceptorModules } from '../interceptors/workflow-modules';
import type { CarrierClient } from '../partners/carrier-client';
import type { GatewayClient } from '../partners/gateway-client';
import type { WorkerTracing } from '../telemetry/temporal-tracing';
import { taskQueues, type ServiceName } from '../temporal/names';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * The order workflow's code as every worker runs it, with its interceptor modules: the tests and the replay suite
 * bundle it here too, so what they run and replay is what the orders worker runs.
 */
export function bundleOrderWorkflow(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [...orderWorkflowInterceptorModules],
    ...(logger ? { logger } : {}),
  });
}

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
  /**
   * A prebuilt bundle (tests build one once, with bundleOrderWorkflow); otherwise the orders worker bundles at
   * start.
   */
  workflowBundle?: WorkflowBundle;
  /** Overrides the service's own queue (tests give each test its own). */
  taskQueue?: string;
  /** Activities run at once (default: the SDK's). */
  activitySlots?: number;
  /** Runs kept in the sticky cache (0: each workflow task replays its run from the start, as tests of replay want). */
  maxCachedWorkflows?: number;
  /** Encrypts what the worker sends to Temporal (src/temporal/data-converter.ts); absent in workflow unit tests. */
  dataConverter?: DataConverter;
  /** Spans of its activities (src/telemetry), children of the span that started the run; off when absent.
   */
  tracing?: WorkerTracing;
  /**
   * The orders worker's version of its worker deployment (Worker Deployment Versioning, docs/VERSIONING.md); absent:
   * unversioned. Only the orders worker takes it: see versioningOf.
   */
  deploymentVersion?: WorkerDeploymentVersion;
}

/**
 * Versioning for the worker that runs the order workflow: each run is pinned to the build that started it, so a
 * deploy may change the workflow's code freely (no `patched()`) and a running order still finishes on the code it
 * started on. The activity-only workers (inventory, payments, shipping) stay unversioned: they run no workflow code,
 * so nothing of theirs can break a replay; an activity task on a queue outside the run's version goes to that
 * queue's unversioned pollers, so they deploy by a plain rolling restart, and a version of the orders worker does not
 * have to keep old service workers alive for as long as its pinned orders wait (an approval may take 24 h). What an
 * activity takes and returns stays compatible across a deploy instead, as with any API.
 */
function versioningOf(service: ServiceName, version: WorkerDeploymentVersion | undefined) {
  if (service !== 'orders' || version === undefined) return {};
  return {
    workerDeploymentOptions: { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' },
  } as const;
}

/**
 * One worker per service, polling only that service's task queue and running
 * only its activities, so a service can be scaled or restarted on its own.
 * The orders worker also runs the order workflow.
 */
export function createServiceWorker(
  service: ServiceName,
  activities: object,
  {
    connection,
    namespace,
    workflowBundle,
    taskQueue,
    activitySlots,
    maxCachedWorkflows,
    tracing,
    dataConverter,
    deploymentVersion,
  }: ServiceWorkerOptions,
): Promise<Worker> {
  const workflows = service === 'orders' ? (workflowBundle ? { workflowBundle } : { workflowsPath }) : {};
  return Worker.create({
    connection,
    namespace,
    taskQueue: taskQueue ?? taskQueues[service],
    activities,
    dataConverter,
    ...workflows,
    ...versioningOf(service, deploymentVersion),
    ...(activitySlots === undefined ? {} : { maxConcurrentActivityTaskExecutions: activitySlots }),
    ...(maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows }),
    interceptors: {
      // The log context first, so the lines of every interceptor after it name the order and the request too.
      activity: [activityLogContext, ...(tracing?.activity ?? [])],
      // Only when the worker bundles: a prebuilt bundle already holds its interceptor modules.
      workflowModules: workflowBundle ? [] : [...orderWorkflowInterceptorModules],
    },
  });
}
