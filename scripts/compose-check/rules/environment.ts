import { ConfigError, configVariableNames, loadConfig } from '../../../src/config';
import { databaseNames, readModelDatabase, type DatabaseName } from '../../../src/db/layout';
import { databaseUrlVariable } from '../../../src/db/url';
import {
  loadCarrierConfig,
  loadGatewayConfig,
  PartnerConfigError,
  partnerConfigVariableNames,
} from '../../../simulators/config';
import { temporalGrpcMetadataPrefix } from '../../../src/temporal/connection';
import type { ServiceName } from '../../../src/temporal/names';
import { isRecord } from '../compose-file';
import type { CheckContext } from '../context';
import { databasesUsedBy, projectProcesses, type PartnerName, type ProcessRole } from '../processes';
import {
  dockerfileEnvOf,
  effectiveEnvironment,
  environmentOf,
  hasHealthcheck,
  projectServices,
  services,
} from '../services';
import { suggestion } from '../suggestion';
import { parsePorts } from './ports-and-mounts';

/**
 * Project services get only variables that src/config.ts reads (a typo or a
 * renamed variable would otherwise fall back to its default without a word),
 * and their values pass the app's own validation (loadConfig).
 */
export function checkProjectEnvironment(context: CheckContext): string[] {
  const problems: string[] = [];
  const processes = projectProcesses(context);
  for (const [name, service] of projectServices(context)) {
    const resolved = processes.get(name);
    const partner =
      typeof resolved !== 'string' && resolved?.role.kind === 'partner' ? resolved.role.partner : undefined;
    // The partners stand in for outside companies: they read only their own variables.
    const [names, source] = partner
      ? [partnerConfigVariableNames, 'simulators/config.ts']
      : [configVariableNames, 'src/config.ts'];
    const known = new Set(names);
    const environment = environmentOf(service);
    for (const key of Object.keys(environment)) {
      // TEMPORAL_GRPC_META_<NAME>: one gRPC header each, any name (src/temporal/connection.ts).
      const header = !partner && key.startsWith(temporalGrpcMetadataPrefix) && key !== temporalGrpcMetadataPrefix;
      if (!known.has(key) && !header) {
        problems.push(`${name}: ${key} is not a variable ${source} reads${suggestion(key, names)}`);
      }
    }
    const values = Object.fromEntries(
      Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    try {
      if (partner) loadPartnerConfig[partner]({ ...dockerfileEnvOf(context), ...values });
      else loadConfig({ ...dockerfileEnvOf(context), ...values });
    } catch (error) {
      if (!(error instanceof ConfigError) && !(error instanceof PartnerConfigError)) throw error;
      problems.push(`${name}: ${error.message.replace(/\n\s*/g, ' ')}`);
    }
  }
  return problems;
}

const loadPartnerConfig: Record<PartnerName, (env: NodeJS.ProcessEnv) => unknown> = {
  gateway: loadGatewayConfig,
  carrier: loadCarrierConfig,
};

const partnerHostVariable: Record<PartnerName, string> = { gateway: 'GATEWAY_HOST', carrier: 'CARRIER_HOST' };

/** The worker that calls each partner, and the variable that tells it where the partner is. */
const partnerUrlVariables: Partial<Record<ServiceName, string>> = {
  payments: 'PAYMENT_GATEWAY_URL',
  shipping: 'CARRIER_URL',
};

/** Why a process needs a database's URL, for the message when it is missing. */
function whyNeeded(role: ProcessRole, database: DatabaseName): string {
  if (role.kind === 'migrate') return 'the migration would go to a SQLite file in the container';
  if (database === readModelDatabase) {
    return role.kind === 'api'
      ? 'the API reads the order list and order events from the read model'
      : "the worker's outbox relay writes the service's events into the read model";
  }
  return role.kind === 'api'
    ? "the API's readiness check pings every service's database"
    : 'the default is a SQLite file in the container';
}

/**
 * What each process needs: a worker its own database URL and the read
 * model's, and no other service's (database per service), the API every
 * database's (its readiness check pings them, its order list reads the read
 * model) and to listen on 0.0.0.0 on the port it publishes, a migration job
 * the URL of every database it migrates; every process but the migration
 * job a TEMPORAL_ADDRESS that names a service here; workers must not inherit
 * the image's HTTP healthcheck, which only the API can answer (scripts/compose-check/rules/worker-health.ts checks
 * the one they get instead).
 */
export function checkProcessNeeds(context: CheckContext): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  for (const [name, resolved] of projectProcesses(context)) {
    if (typeof resolved === 'string') continue;
    const service = all.get(name) ?? {};
    const environment = effectiveEnvironment(context, service);
    const { role } = resolved;
    if (role.kind === 'partner') {
      const hostVariable = partnerHostVariable[role.partner];
      const host = environment[hostVariable];
      if (host !== '0.0.0.0' && host !== '::') {
        problems.push(`${name}: ${hostVariable} is ${host ?? 'unset (127.0.0.1)'}; in a container it must be 0.0.0.0`);
      }
      if (hasHealthcheck(service, context) && !isRecord(service.healthcheck)) {
        problems.push(`${name}: inherits the image's healthcheck, which probes the API's port; give it its own`);
      }
      continue;
    }
    if (role.kind === 'codec-server') {
      const host = environment.CODEC_SERVER_HOST;
      if (host !== '0.0.0.0' && host !== '::') {
        problems.push(
          `${name}: CODEC_SERVER_HOST is ${host ?? 'unset (127.0.0.1)'}; in a container it must be 0.0.0.0`,
        );
      }
      if (hasHealthcheck(service, context) && !isRecord(service.healthcheck)) {
        problems.push(`${name}: inherits the image's healthcheck, which probes the API's port; give it its own`);
      }
      continue;
    }
    const urlVariables = databaseNames.filter((database) => environment[databaseUrlVariable(database)] !== undefined);
    const needed = databasesUsedBy(role);
    for (const database of needed.filter((database) => !urlVariables.includes(database))) {
      problems.push(`${name}: ${databaseUrlVariable(database)} is not set; ${whyNeeded(role, database)}`);
    }
    if (role.kind === 'migrate') continue;
    const address = environment.TEMPORAL_ADDRESS;
    if (address === undefined) {
      problems.push(`${name}: TEMPORAL_ADDRESS is not set (its default, 127.0.0.1:7233, is the container itself)`);
    } else {
      const host = address.replace(/:\d+$/, '');
      if (!all.has(host)) problems.push(`${name}: TEMPORAL_ADDRESS ${address}: "${host}" is not a service here`);
    }
    if (role.kind === 'worker') {
      for (const owner of urlVariables.filter((database) => !needed.includes(database))) {
        problems.push(
          `${name}: the ${role.service} worker is given ${databaseUrlVariable(owner)}; a service opens only its own database`,
        );
      }
      if (hasHealthcheck(service, context) && !isRecord(service.healthcheck)) {
        problems.push(
          `${name}: inherits the image's HTTP healthcheck, which a worker cannot answer; give it its own (GET /health on its status port)`,
        );
      }
    }
    const partnerUrlVariable = role.kind === 'worker' ? partnerUrlVariables[role.service] : undefined;
    if (partnerUrlVariable) {
      const partnerUrl = environment[partnerUrlVariable];
      const partnerHost = partnerUrl ? new URL(partnerUrl).hostname : undefined;
      if (!partnerHost || !all.has(partnerHost)) {
        problems.push(
          `${name}: ${partnerUrlVariable} ${partnerUrl ?? 'is unset (127.0.0.1, the container itself)'}` +
            `${partnerHost ? `: "${partnerHost}" is not a service here` : ''}`,
        );
      }
    }
    if (role.kind === 'api') {
      const host = environment.API_HOST;
      if (host !== '0.0.0.0' && host !== '::') {
        problems.push(`${name}: API_HOST is ${host ?? 'unset (127.0.0.1)'}; in a container it must be 0.0.0.0`);
      }
      const port = Number(environment.API_PORT ?? 3000);
      const published = parsePorts(service.ports, name, []);
      if (published.length > 0 && !published.some((mapping) => mapping.target === port)) {
        problems.push(
          `${name}: publishes container port(s) ${published.map((m) => m.target).join(', ')}, but listens on API_PORT ${port}`,
        );
      }
    }
  }
  return problems;
}
