import path from 'node:path';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { defaultDatabaseUrl } from './db/url';
import { defaultCarrierClientOptions } from './partners/carrier-client';
import { defaultGatewayClientOptions } from './partners/gateway-client';
import { defaultCarrierPort, defaultGatewayPort } from './partners/contract';
import { projectRoot } from './project-root';
import { tracesExporters, tracingConfig } from './telemetry/tracing-config';
import { readTemporalEndpoint, temporalConnectionVariableNames, type TemporalEndpoint } from './temporal/connection';
import type { PayloadEncryptionConfig } from './temporal/data-converter';
import { payloadEncryptionKeys } from './temporal/encryption-keys';
import type { ServiceName } from './temporal/names';
import { defaultOrderDeadlines, stepTimeoutMs, type OrderDeadlines } from './domain/deadlines';

export { projectRoot };

const databaseUrl = z
  .string()
  .trim()
  .refine((url) => /^(file:|postgres(ql)?:\/\/)/.test(url), {
    message: 'must start with file: (SQLite) or postgresql:// (PostgreSQL)',
  });

const port = z.coerce.number().int().min(0).max(65535);
const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** A duration as the workflow reads it (Temporal's `ms` format, restricted to one whole number and one unit). */
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 15m, 24h or 2d');
const httpUrl = z
  .string()
  .trim()
  .url()
  .refine((url) => /^https?:\/\//.test(url), { message: 'must be an http(s) URL' });
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/** What a caller of the API may do: customers place, read and cancel their own orders; operators everything. */
export const apiRoles = ['customer', 'operator'] as const;
export type ApiRole = (typeof apiRoles)[number];

/** One API key as configured: only its SHA-256 is known, never the key itself. */
export interface ApiKeyEntry {
  /** A customer's name is their customerId; an operator's names them in the logs. */
  name: string;
  role: ApiRole;
  /** SHA-256 of the key, 64 lowercase hex digits (scripts/hash-api-key.ts prints it). */
  sha256: string;
}

const apiKeyEntryPattern = new RegExp(`^([^:\\s]{1,64}):(${apiRoles.join('|')}):([0-9a-f]{64})$`);

/** `API_KEYS`: comma-separated `<name>:<role>:<sha256 hex of the key>`. */
const apiKeys = z
  .string()
  .default('')
  .transform((text, context): ApiKeyEntry[] => {
    const entries: ApiKeyEntry[] = [];
    for (const [index, raw] of text.split(',').entries()) {
      const entry = raw.trim();
      if (entry === '') continue;
      const match = apiKeyEntryPattern.exec(entry);
      if (!match) {
        // The entry itself is not repeated: a key pasted by mistake in place of its hash stays out of the logs.
        context.addIssue({
          code: 'custom',
          message: `entry ${index + 1} is not <name>:<customer|operator>:<sha256 hex of the key>`,
        });
        continue;
      }
      const [, name = '', role, sha256 = ''] = match;
      if (entries.some((other) => other.sha256 === sha256)) {
        context.addIssue({ code: 'custom', message: `entry ${index + 1}: the same key is configured twice` });
      }
      entries.push({ name, role: role as ApiRole, sha256 });
    }
    return entries;
  });

/**
 * Activities one worker process runs at once. Payments gets fewer: its
 * activities wait on the gateway, and a slow gateway should fill its own
 * worker, not the machine.
 */
export const defaultActivitySlots: Record<ServiceName, number> = {
  orders: 50,
  inventory: 50,
  // No more charges at once than the gateway bulkhead lets through: the rest wait in Temporal's task queue, where
  // waiting is durable and costs no attempt, instead of being refused by the bulkhead in-process.
  payments: defaultGatewayClientOptions.maxConcurrentCalls,
  shipping: 50,
};

export const defaultWorkerStatusPorts: Record<ServiceName, number> = {
  orders: 3101,
  inventory: 3102,
  payments: 3103,
  shipping: 3104,
};

const environmentSchema = z.object({
  // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key: read by @temporalio/envconfig (src/temporal/connection.ts).
  /**
   * Worker Deployment Versioning of the orders worker (docs/VERSIONING.md): set, the worker polls as this build of
   * its deployment and every order run stays pinned to the build that started it. Unset (the default, as `npm start`
   * and the tests run): an unversioned worker.
   */
  TEMPORAL_WORKER_BUILD_ID: z.string().trim().min(1).max(255).optional(),
  /** The worker deployment the orders worker's builds belong to (the worker and `npm run deploy:version` read it). */
  TEMPORAL_WORKER_DEPLOYMENT_NAME: z.string().trim().min(1).max(255).default('order-saga'),
  /** npm start runs a Temporal dev server unless told that one runs elsewhere. */
  START_TEMPORAL_DEV_SERVER: flag.default(true),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_DB_FILE: z
    .string()
    .min(1)
    .default(path.join(projectRoot, 'data', 'temporal.db')),
  ORDERS_DATABASE_URL: databaseUrl.default(defaultDatabaseUrl('orders')),
  INVENTORY_DATABASE_URL: databaseUrl.default(defaultDatabaseUrl('inventory')),
  PAYMENTS_DATABASE_URL: databaseUrl.default(defaultDatabaseUrl('payments')),
  SHIPPING_DATABASE_URL: databaseUrl.default(defaultDatabaseUrl('shipping')),
  /** The read model's database: written by the outbox relays of the four workers, read by the API. */
  VIEWS_DATABASE_URL: databaseUrl.default(defaultDatabaseUrl('views')),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Orders whose total exceeds this wait for an operator's approval before payment. */
  APPROVAL_THRESHOLD_CENTS: z.coerce.number().int().nonnegative().default(100_000),
  /** How long an order waits for approval before it is rejected and compensated. */
  APPROVAL_TIMEOUT: duration.default('24h'),
  /** How long an order may wait out an outage before it is created and its stock reserved. */
  ACCEPTANCE_DEADLINE: duration.default(defaultOrderDeadlines.acceptance),
  /** How long an order may wait out an outage before it is charged, counted from when it may be paid. */
  PAYMENT_DEADLINE: duration.default(defaultOrderDeadlines.payment),
  /** How long an order may wait out an outage before its shipment is booked, counted from the charge. */
  SHIPMENT_DEADLINE: duration.default(defaultOrderDeadlines.shipment),
  /** `required`: every order route needs an API key; `off` (only `npm start` sets it): anyone may do anything. */
  API_AUTH: z.enum(['required', 'off']).default('required'),
  API_KEYS: apiKeys,
  /** Requests per minute per API key (per client IP when API_AUTH=off); health probes are not counted. */
  API_RATE_LIMIT_PER_MINUTE: positive(600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The payment gateway the payments service charges through (src/partners/gateway). */
  PAYMENT_GATEWAY_URL: httpUrl.default(`http://127.0.0.1:${defaultGatewayPort}`),
  GATEWAY_CALL_TIMEOUT_MS: positive(defaultGatewayClientOptions.callTimeoutMs),
  /** The bulkhead around gateway calls, per payments worker process. */
  GATEWAY_MAX_CONCURRENT_CALLS: positive(defaultGatewayClientOptions.maxConcurrentCalls),
  GATEWAY_MAX_QUEUED_CALLS: z.coerce.number().int().nonnegative().default(defaultGatewayClientOptions.maxQueuedCalls),
  /** A queued call that waits longer fails as busy; with the call timeout it must fit the charge step's 10 s. */
  GATEWAY_MAX_QUEUE_WAIT_MS: positive(defaultGatewayClientOptions.maxQueueWaitMs),
  GATEWAY_BREAKER_FAILURES: positive(defaultGatewayClientOptions.breakAfterFailures),
  GATEWAY_BREAKER_HALF_OPEN_MS: positive(defaultGatewayClientOptions.halfOpenAfterMs),
  /** The carrier the shipping service asks for rate quotes (src/partners/carrier). */
  CARRIER_URL: httpUrl.default(`http://127.0.0.1:${defaultCarrierPort}`),
  /** A quote slower than this is not waited for: the flat rate applies. */
  CARRIER_QUOTE_TIMEOUT_MS: positive(defaultCarrierClientOptions.quoteTimeoutMs),
  /** What a parcel is booked at when the carrier cannot quote. */
  FLAT_SHIPPING_RATE_CENTS: positive(defaultCarrierClientOptions.flatRateCents),
  /** Activity slots per worker process: each service's bulkhead against the others' slowness. */
  ORDERS_ACTIVITY_SLOTS: positive(defaultActivitySlots.orders),
  INVENTORY_ACTIVITY_SLOTS: positive(defaultActivitySlots.inventory),
  PAYMENTS_ACTIVITY_SLOTS: positive(defaultActivitySlots.payments),
  SHIPPING_ACTIVITY_SLOTS: positive(defaultActivitySlots.shipping),
  /** Each worker's status page (`GET /health`, loopback); 0 turns it off. */
  ORDERS_WORKER_STATUS_PORT: port.default(defaultWorkerStatusPorts.orders),
  INVENTORY_WORKER_STATUS_PORT: port.default(defaultWorkerStatusPorts.inventory),
  PAYMENTS_WORKER_STATUS_PORT: port.default(defaultWorkerStatusPorts.payments),
  SHIPPING_WORKER_STATUS_PORT: port.default(defaultWorkerStatusPorts.shipping),
  /** Where the status pages (`GET /health`, `GET /metrics`) listen: loopback, unless Prometheus scrapes from elsewhere. */
  WORKER_STATUS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Tracing, by OpenTelemetry's own variables: `none` (default), `otlp` (OTLP over HTTP) or `console` (stdout). */
  OTEL_TRACES_EXPORTER: z.enum(tracesExporters).default('none'),
  /** The OTLP collector's base URL; `/v1/traces` is appended (default http://localhost:4318). */
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  /** The full URL traces are sent to; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  /** `on`: payloads to Temporal are encrypted (src/temporal/payload-codec.ts); `off`: plain text, still decrypted. */
  PAYLOAD_ENCRYPTION: z.enum(['on', 'off']).default('on'),
  /** Comma-separated `<keyId>:<base64 32-byte key>`; the first encrypts, all decrypt (`npm run keys:new`). */
  PAYLOAD_ENCRYPTION_KEYS: payloadEncryptionKeys,
  /** The codec server the Web UI decodes payloads with (src/codec-server): loopback unless deployed behind auth. */
  CODEC_SERVER_HOST: z.string().min(1).default('127.0.0.1'),
  CODEC_SERVER_PORT: port.default(8888),
  /** Comma-separated origins of the Web UI allowed to call it; default: the dev server's UI on TEMPORAL_UI_PORT. */
  CODEC_SERVER_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((text, context) => {
      const origins = text
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean);
      for (const origin of origins.filter((origin) => !/^https?:\/\/[^/\s]+$/.test(origin))) {
        context.addIssue({ code: 'custom', message: `${origin} is not an origin (scheme://host[:port])` });
      }
      return origins;
    }),
});

export type AppConfig = ReturnType<typeof toConfig>;

function workerDeploymentVersion(deploymentName: string, buildId: string | undefined) {
  return buildId === undefined ? undefined : ({ deploymentName, buildId } satisfies WorkerDeploymentVersion);
}

function toConfig(env: z.infer<typeof environmentSchema>, endpoint: TemporalEndpoint) {
  const databaseUrls: Record<ServiceName, string> = {
    orders: env.ORDERS_DATABASE_URL,
    inventory: env.INVENTORY_DATABASE_URL,
    payments: env.PAYMENTS_DATABASE_URL,
    shipping: env.SHIPPING_DATABASE_URL,
  };
  return {
    temporal: {
      address: endpoint.address,
      namespace: endpoint.namespace,
      /** Everything a connection needs (TLS, API key, gRPC headers): src/temporal/connection.ts connects with it. */
      endpoint,
      startDevServer: env.START_TEMPORAL_DEV_SERVER,
      uiPort: env.TEMPORAL_UI_PORT,
      dbFile: env.TEMPORAL_DB_FILE,
      workerDeploymentName: env.TEMPORAL_WORKER_DEPLOYMENT_NAME,
      /** The orders worker's version when it is versioned (TEMPORAL_WORKER_BUILD_ID set), else undefined. */
      workerDeployment: workerDeploymentVersion(env.TEMPORAL_WORKER_DEPLOYMENT_NAME, env.TEMPORAL_WORKER_BUILD_ID),
    },
    databaseUrls,
    viewsDatabaseUrl: env.VIEWS_DATABASE_URL,
    api: {
      host: env.API_HOST,
      port: env.API_PORT,
      auth: env.API_AUTH === 'off' ? { mode: 'off' as const } : { mode: 'required' as const, keys: env.API_KEYS },
      rateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
    },
    approval: { thresholdCents: env.APPROVAL_THRESHOLD_CENTS, timeout: env.APPROVAL_TIMEOUT },
    deadlines: {
      acceptance: env.ACCEPTANCE_DEADLINE,
      payment: env.PAYMENT_DEADLINE,
      shipment: env.SHIPMENT_DEADLINE,
    } satisfies OrderDeadlines,
    logLevel: env.LOG_LEVEL,
    tracing: tracingConfig(
      env.OTEL_TRACES_EXPORTER,
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
      env.OTEL_EXPORTER_OTLP_ENDPOINT,
    ),
    gateway: {
      baseUrl: env.PAYMENT_GATEWAY_URL,
      callTimeoutMs: env.GATEWAY_CALL_TIMEOUT_MS,
      maxConcurrentCalls: env.GATEWAY_MAX_CONCURRENT_CALLS,
      maxQueuedCalls: env.GATEWAY_MAX_QUEUED_CALLS,
      maxQueueWaitMs: env.GATEWAY_MAX_QUEUE_WAIT_MS,
      breakAfterFailures: env.GATEWAY_BREAKER_FAILURES,
      halfOpenAfterMs: env.GATEWAY_BREAKER_HALF_OPEN_MS,
    },
    carrier: {
      ...defaultCarrierClientOptions,
      baseUrl: env.CARRIER_URL,
      quoteTimeoutMs: env.CARRIER_QUOTE_TIMEOUT_MS,
      flatRateCents: env.FLAT_SHIPPING_RATE_CENTS,
    },
    activitySlots: {
      orders: env.ORDERS_ACTIVITY_SLOTS,
      inventory: env.INVENTORY_ACTIVITY_SLOTS,
      payments: env.PAYMENTS_ACTIVITY_SLOTS,
      shipping: env.SHIPPING_ACTIVITY_SLOTS,
    } satisfies Record<ServiceName, number>,
    workerStatusPorts: {
      orders: env.ORDERS_WORKER_STATUS_PORT,
      inventory: env.INVENTORY_WORKER_STATUS_PORT,
      payments: env.PAYMENTS_WORKER_STATUS_PORT,
      shipping: env.SHIPPING_WORKER_STATUS_PORT,
    } satisfies Record<ServiceName, number>,
    workerStatusHost: env.WORKER_STATUS_HOST,
    payloadEncryption: {
      mode: env.PAYLOAD_ENCRYPTION,
      keyring: env.PAYLOAD_ENCRYPTION_KEYS,
    } satisfies PayloadEncryptionConfig,
    codecServer: {
      host: env.CODEC_SERVER_HOST,
      port: env.CODEC_SERVER_PORT,
      corsOrigins:
        env.CODEC_SERVER_CORS_ORIGINS.length > 0
          ? env.CODEC_SERVER_CORS_ORIGINS
          : [`http://localhost:${env.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`],
    },
  };
}

export { ConfigError };

/** The environment variables this project reads, for docs and the compose check. */
export const configVariableNames: string[] = [
  ...Object.keys(environmentSchema.shape),
  ...temporalConnectionVariableNames,
];

/** Parses the environment once; an invalid variable is named with what it expects. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = environmentSchema.safeParse(env);
  const temporal = readTemporalEndpoint(env);
  if (!parsed.success || !('endpoint' in temporal)) {
    const problems = [
      ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
      ...temporal.problems,
    ];
    throw new ConfigError(`Invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
  const {
    GATEWAY_MAX_QUEUE_WAIT_MS: queueWait,
    GATEWAY_CALL_TIMEOUT_MS: callTimeout,
    PAYMENTS_ACTIVITY_SLOTS: paymentsSlots,
    GATEWAY_MAX_CONCURRENT_CALLS: gatewayCalls,
    GATEWAY_MAX_QUEUED_CALLS: gatewayQueue,
  } = parsed.data;
  if (paymentsSlots > gatewayCalls + gatewayQueue) {
    throw new ConfigError(
      `Invalid configuration:\n  PAYMENTS_ACTIVITY_SLOTS (${paymentsSlots}) must not exceed GATEWAY_MAX_CONCURRENT_CALLS + ` +
        `GATEWAY_MAX_QUEUED_CALLS (${gatewayCalls + gatewayQueue}): the bulkhead would refuse the extra charges, ` +
        'turning load into retries, where Temporal would let them wait in the task queue',
    );
  }
  if (queueWait + callTimeout >= stepTimeoutMs) {
    throw new ConfigError(
      `Invalid configuration:\n  GATEWAY_MAX_QUEUE_WAIT_MS + GATEWAY_CALL_TIMEOUT_MS (${queueWait + callTimeout} ms) ` +
        `must stay below a step's ${stepTimeoutMs} ms start-to-close timeout, or a waiting charge outlives its attempt`,
    );
  }
  return toConfig(parsed.data, temporal.endpoint);
}
