import path from 'node:path';
import { z } from 'zod';
import { DatabaseUrlError, normalizeSqliteUrl } from '../src/db/url';
import { projectRoot } from '../src/project-root';
import {
  defaultCarrierPort,
  defaultGatewayPort,
  partnerFaultsSchema,
  type PartnerFaults,
} from '../src/partners/contract';

/* The simulated partners' environment. Their default ports are the contract's, where our clients look for them. */

export { defaultCarrierPort, defaultGatewayPort };
export const defaultPartnerHost = '127.0.0.1';
export const defaultGatewayDatabaseUrl = `file:${path.join(projectRoot, 'data', 'gateway.db')}`;

const port = z.coerce.number().int().min(0).max(65535);
const host = z.string().trim().min(1);
// The bounds are the fault controls' own, so the environment cannot set what PUT /admin/faults would refuse.
const latencyMs = z.coerce.number().pipe(partnerFaultsSchema.shape.latencyMs.unwrap()).default(0);
const failureRate = z.coerce.number().pipe(partnerFaultsSchema.shape.failureRate.unwrap()).default(0);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** A SQLite file: URL, made absolute (a relative path resolves against the project root, as for the services). */
const sqliteUrl = z
  .string()
  .trim()
  .transform((url, context) => {
    try {
      return normalizeSqliteUrl(url);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: error instanceof DatabaseUrlError ? error.message : 'must be a file: URL',
      });
      return z.NEVER;
    }
  });

const gatewayEnvironmentSchema = z.object({
  GATEWAY_HOST: host.default(defaultPartnerHost),
  GATEWAY_PORT: port.default(defaultGatewayPort),
  GATEWAY_DATABASE_URL: sqliteUrl.default(defaultGatewayDatabaseUrl),
  GATEWAY_LATENCY_MS: latencyMs,
  GATEWAY_FAILURE_RATE: failureRate,
  LOG_LEVEL: logLevel,
});

const carrierEnvironmentSchema = z.object({
  CARRIER_HOST: host.default(defaultPartnerHost),
  CARRIER_PORT: port.default(defaultCarrierPort),
  CARRIER_LATENCY_MS: latencyMs,
  CARRIER_FAILURE_RATE: failureRate,
  LOG_LEVEL: logLevel,
});

export interface GatewayConfig {
  host: string;
  port: number;
  /** `file:/absolute/path.db` */
  databaseUrl: string;
  faults: PartnerFaults;
  logLevel: string;
}

export interface CarrierConfig {
  host: string;
  port: number;
  faults: PartnerFaults;
  logLevel: string;
}

export class PartnerConfigError extends Error {
  override name = 'PartnerConfigError';
}

/** The environment variables the partners read, for docs and the compose check. */
export const partnerConfigVariableNames = [
  ...new Set([...Object.keys(gatewayEnvironmentSchema.shape), ...Object.keys(carrierEnvironmentSchema.shape)]),
];

function parse<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new PartnerConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

/** Parses the gateway's environment; an invalid variable is named with what it expects. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = parse(gatewayEnvironmentSchema, env);
  return {
    host: parsed.GATEWAY_HOST,
    port: parsed.GATEWAY_PORT,
    databaseUrl: parsed.GATEWAY_DATABASE_URL,
    faults: { down: false, latencyMs: parsed.GATEWAY_LATENCY_MS, failureRate: parsed.GATEWAY_FAILURE_RATE },
    logLevel: parsed.LOG_LEVEL,
  };
}

/** Parses the carrier's environment; an invalid variable is named with what it expects. */
export function loadCarrierConfig(env: NodeJS.ProcessEnv = process.env): CarrierConfig {
  const parsed = parse(carrierEnvironmentSchema, env);
  return {
    host: parsed.CARRIER_HOST,
    port: parsed.CARRIER_PORT,
    faults: { down: false, latencyMs: parsed.CARRIER_LATENCY_MS, failureRate: parsed.CARRIER_FAILURE_RATE },
    logLevel: parsed.LOG_LEVEL,
  };
}
