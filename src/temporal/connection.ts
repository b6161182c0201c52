import { accessSync, constants } from 'node:fs';
import { Connection, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import type { NativeConnection } from '@temporalio/worker';

/**
 * Where and how this system reaches Temporal (a dev server, a self-hosted cluster or Temporal Cloud), as
 * `@temporalio/envconfig` loads it from a TOML profile and the TEMPORAL_* variables, with the project's defaults.
 */
export interface TemporalEndpoint {
  address: string;
  namespace: string;
  /** false: plain TCP; true or an object: TLS (an API key alone turns it on, as Temporal Cloud expects). */
  tls: TLSConfig | boolean;
  apiKey?: string;
  /** gRPC headers sent with every call (`grpc_meta` in the profile, TEMPORAL_GRPC_META_<NAME>). */
  metadata?: Record<string, string>;
}

/** The endpoint when nothing is configured: the dev server `npm start` runs. */
export const defaultTemporalEndpoint = { address: '127.0.0.1:7233', namespace: 'default' } as const;

/** Variables `@temporalio/envconfig` reads, besides TEMPORAL_GRPC_META_<NAME> (one gRPC header each). */
export const temporalConnectionVariableNames = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
] as const;

/** Each variable with this prefix adds one gRPC header (TEMPORAL_GRPC_META_X_TENANT=a sends `x-tenant: a`). */
export const temporalGrpcMetadataPrefix = 'TEMPORAL_GRPC_META_';

/** The endpoint, or what is wrong with its settings, each problem naming the variable or profile key to fix. */
export type TemporalEndpointResult = { endpoint: TemporalEndpoint; problems: [] } | { problems: string[] };

type TlsFile = 'serverCACert' | 'clientCert' | 'clientKey';

/** The variable and the profile key behind each certificate or key, for messages. */
const tlsFileSettings: Record<TlsFile, { variable: string; key: string }> = {
  serverCACert: { variable: 'TEMPORAL_TLS_SERVER_CA_CERT', key: 'server_ca_cert' },
  clientCert: { variable: 'TEMPORAL_TLS_CLIENT_CERT', key: 'client_cert' },
  clientKey: { variable: 'TEMPORAL_TLS_CLIENT_KEY', key: 'client_key' },
};

const booleanValues = ['true', 'false', '1', '0'];

/**
 * Reads the Temporal connection settings the way every Temporal SDK and the CLI do: the profile TEMPORAL_PROFILE
 * (default `default`) of the TOML file TEMPORAL_CONFIG_FILE (default `temporal.toml` in the user's config
 * directory, read if present), overridden by the TEMPORAL_* variables; then this project's defaults.
 */
export function readTemporalEndpoint(env: NodeJS.ProcessEnv): TemporalEndpointResult {
  const problems = preflightProblems(env);
  if (problems.length > 0) return { problems };
  const profileName = env.TEMPORAL_PROFILE ?? 'default';
  const fileName = env.TEMPORAL_CONFIG_FILE ?? 'temporal.toml (the default profile file)';
  // Where a setting came from, for messages: the variable wins over the profile, as in envconfig.
  const sourceOf = (variable: string, key: string) =>
    env[variable] !== undefined ? variable : `profile.${profileName}.${key} in ${fileName}`;

  let profile;
  try {
    // Strict: a misspelt key in the profile would otherwise be ignored, and its setting fall back without a word.
    profile = loadClientConfigProfile({ overrideEnvVars: definedOnly(env), configFileStrict: true });
  } catch (error) {
    return { problems: [`Temporal profile ${profileName} of ${fileName}: ${messageOf(error)}`] };
  }

  if (profile.address?.trim() === '') problems.push(`${sourceOf('TEMPORAL_ADDRESS', 'address')}: must not be empty`);
  if (profile.namespace?.trim() === '') {
    problems.push(`${sourceOf('TEMPORAL_NAMESPACE', 'namespace')}: must not be empty`);
  }
  const tls = profile.tls;
  if (tls && tls.disabled !== true) {
    for (const file of Object.keys(tlsFileSettings) as TlsFile[]) {
      const source = tls[file];
      const { variable, key } = tlsFileSettings[file];
      if (source !== undefined && 'path' in source && !readable(source.path)) {
        problems.push(`${sourceOf(`${variable}_PATH`, `tls.${key}_path`)}: cannot read ${source.path}`);
      }
    }
    if ((tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
      const [given, missing]: TlsFile[] = tls.clientCert ? ['clientCert', 'clientKey'] : ['clientKey', 'clientCert'];
      const name = (file: TlsFile) => `${tlsFileSettings[file].variable}_PATH (tls.${tlsFileSettings[file].key}_path)`;
      problems.push(`${name(given!)} is set without ${name(missing!)}: mTLS needs both the certificate and its key`);
    }
  }
  if (profile.apiKey !== undefined && profile.grpcMeta?.authorization !== undefined) {
    // Both would be sent: the SDK's own check looks for `Authorization`, and envconfig lowercases header names.
    problems.push(
      `${sourceOf('TEMPORAL_API_KEY', 'api_key')} and an authorization header ` +
        `(TEMPORAL_GRPC_META_AUTHORIZATION, profile.${profileName}.grpc_meta): give one or the other`,
    );
  }
  if (problems.length > 0) return { problems };

  let connect;
  try {
    connect = toClientOptions(profile);
  } catch (error) {
    return { problems: [`TLS settings (TEMPORAL_TLS_*, profile.${profileName}.tls): ${messageOf(error)}`] };
  }
  const { address, apiKey, tls: tlsOption, metadata } = connect.connectionOptions;
  return {
    endpoint: {
      address: address ?? defaultTemporalEndpoint.address,
      namespace: connect.namespace ?? defaultTemporalEndpoint.namespace,
      tls: tlsOption ?? false,
      ...(typeof apiKey === 'string' && { apiKey }),
      ...(metadata && Object.keys(metadata).length > 0 && { metadata: { ...metadata } as Record<string, string> }),
    },
    problems: [],
  };
}

/** Checks envconfig would pass over in silence: a flag read as false, a missing profile file, an ignored option. */
function preflightProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const variable of temporalConnectionVariableNames) {
    // Unset means "not configured here"; empty would mean an empty address, or TLS turned on by an empty API key.
    if (env[variable]?.trim() === '') problems.push(`${variable}: must not be empty (leave it unset instead)`);
  }
  for (const variable of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION']) {
    const value = env[variable];
    // envconfig reads anything but 1/true as false: TEMPORAL_TLS=yes would connect in plain text.
    if (value !== undefined && !booleanValues.includes(value)) {
      problems.push(`${variable}: expected true, false, 1 or 0, got ${JSON.stringify(value)}`);
    }
  }
  if (env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' || env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1') {
    problems.push(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: the TypeScript SDK always verifies the server; give its CA with ' +
        'TEMPORAL_TLS_SERVER_CA_CERT_PATH and the name on its certificate with TEMPORAL_TLS_SERVER_NAME instead',
    );
  }
  const file = env.TEMPORAL_CONFIG_FILE;
  // envconfig treats a missing file as no file: a mistyped path would silently mean 127.0.0.1:7233.
  if (file !== undefined && !readable(file)) problems.push(`TEMPORAL_CONFIG_FILE: cannot read ${file}`);
  return problems;
}

/** What a client's `ConnectionOptions` and a worker's `NativeConnectionOptions` share. */
export type TemporalConnectionOptions = Omit<TemporalEndpoint, 'namespace'>;

/** The options every Temporal connection of this system is made with (client and worker alike). */
export function connectionOptions(endpoint: TemporalEndpoint): TemporalConnectionOptions {
  return {
    address: endpoint.address,
    tls: endpoint.tls,
    ...(endpoint.apiKey !== undefined && { apiKey: endpoint.apiKey }),
    ...(endpoint.metadata && { metadata: endpoint.metadata }),
  };
}

/** A client connection that connects on first use: the API starts while Temporal is down and says so in /health/ready. */
export function lazyClientConnection(endpoint: TemporalEndpoint): Connection {
  return Connection.lazy(connectionOptions(endpoint));
}

/** The message when Temporal does not answer: where we tried and how, never the API key. */
export function unreachableMessage(endpoint: TemporalEndpoint, error: unknown, hint: string): string {
  return `Cannot reach Temporal at ${describeTemporalEndpoint(endpoint)}: ${messageOf(error)}\n${hint}`;
}

const defaultHint =
  'Start one with `npm start`, or point TEMPORAL_ADDRESS (or a TEMPORAL_PROFILE in TEMPORAL_CONFIG_FILE) at one.';

/** A client connection, connected now: a script fails at once, saying where it looked. */
export async function connectClient(
  endpoint: TemporalEndpoint,
  options: Pick<ConnectionOptions, 'connectTimeout'> & { hint?: string } = {},
): Promise<Connection> {
  try {
    const { hint: _hint, ...connectOptions } = options;
    return await Connection.connect({ ...connectionOptions(endpoint), ...connectOptions });
  } catch (error) {
    throw new Error(unreachableMessage(endpoint, error, options.hint ?? defaultHint));
  }
}

/** A worker's connection (the SDK's native one), connected now. */
export async function connectWorker(endpoint: TemporalEndpoint, hint = defaultHint): Promise<NativeConnection> {
  // Loaded here, not at the top: the API and the scripts share this module and need no worker runtime.
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect(connectionOptions(endpoint));
  } catch (error) {
    throw new Error(unreachableMessage(endpoint, error, hint));
  }
}

/** `host:port (namespace n, TLS with a client certificate, API key)`, for logs and messages. */
export function describeTemporalEndpoint(endpoint: TemporalEndpoint): string {
  const security =
    endpoint.tls === false
      ? 'plain text'
      : typeof endpoint.tls === 'object' && endpoint.tls.clientCertPair
        ? 'TLS with a client certificate'
        : 'TLS';
  const parts = [`namespace ${endpoint.namespace}`, security, ...(endpoint.apiKey ? ['API key'] : [])];
  return `${endpoint.address} (${parts.join(', ')})`;
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
