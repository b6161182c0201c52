import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Json } from '../../scripts/compose-check/compose-file';
import { loadContext } from '../../scripts/compose-check/context';
import { diskFiles } from '../../scripts/compose-check/files';
import { checkProjectEnvironment } from '../../scripts/compose-check/rules/environment';
import { ConfigError, configVariableNames, loadConfig } from '../../src/config';
import {
  connectClient,
  describeTemporalEndpoint,
  lazyClientConnection,
  readTemporalEndpoint,
  type TemporalEndpoint,
} from '../../src/temporal/connection';

/**
 * Temporal connection settings (issue 16, any Temporal endpoint): @temporalio/envconfig's profile file and
 * TEMPORAL_* variables, read by loadConfig into the one endpoint every connection is built from.
 */

const scratch = mkdtempSync(path.join(tmpdir(), 'temporal-connection-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh directory under the test's scratch directory. */
function freshDir(): string {
  const dir = path.join(scratch, String(++counter));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A file in a fresh directory, returned by path. */
function fileWith(name: string, content: string): string {
  const file = path.join(freshDir(), name);
  writeFileSync(file, content);
  return file;
}

/** An environment with no profile file of the user's: HOME and XDG_CONFIG_HOME point at an empty directory. */
function isolated(variables: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = freshDir();
  return { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), ...variables };
}

function endpointOf(env: NodeJS.ProcessEnv): TemporalEndpoint {
  const result = readTemporalEndpoint(env);
  assert.ok('endpoint' in result, `expected an endpoint, got problems:\n  ${result.problems.join('\n  ')}`);
  return result.endpoint;
}

/** loadConfig's error message for `env`, which must be rejected. */
function configErrorOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('loadConfig accepted the configuration');
}

const certificate = '-----BEGIN CERTIFICATE-----\nMIIB client\n-----END CERTIFICATE-----\n';
const privateKey = '-----BEGIN PRIVATE KEY-----\nMIIE key\n-----END PRIVATE KEY-----\n';
const authority = '-----BEGIN CERTIFICATE-----\nMIIB ca\n-----END CERTIFICATE-----\n';

function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes && Buffer.from(bytes).toString('utf8');
}

describe('Temporal endpoint: defaults and profiles', () => {
  test('nothing set: the dev server npm start runs, in plain text', () => {
    const config = loadConfig(isolated());
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.deepEqual(config.temporal.endpoint, { address: '127.0.0.1:7233', namespace: 'default', tls: false });
  });

  test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, as before', () => {
    const config = loadConfig(isolated({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'orders' }));
    assert.deepEqual(config.temporal.endpoint, { address: 'temporal:7233', namespace: 'orders', tls: false });
  });

  test('the default profile of TEMPORAL_CONFIG_FILE', () => {
    const file = fileWith('temporal.toml', '[profile.default]\naddress = "10.0.0.5:7233"\nnamespace = "shop"\n');
    const endpoint = endpointOf(isolated({ TEMPORAL_CONFIG_FILE: file }));
    assert.deepEqual(endpoint, { address: '10.0.0.5:7233', namespace: 'shop', tls: false });
  });

  test('TEMPORAL_PROFILE picks another profile of the file', () => {
    const file = fileWith(
      'temporal.toml',
      '[profile.default]\naddress = "127.0.0.1:7233"\n\n[profile.staging]\naddress = "staging:7233"\nnamespace = "staging"\n',
    );
    const endpoint = endpointOf(isolated({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' }));
    assert.equal(endpoint.address, 'staging:7233');
    assert.equal(endpoint.namespace, 'staging');
  });

  test('the user’s temporal.toml (XDG_CONFIG_HOME/temporalio), as the Temporal CLI writes it', () => {
    const env = isolated();
    mkdirSync(path.join(env.XDG_CONFIG_HOME!, 'temporalio'), { recursive: true });
    writeFileSync(
      path.join(env.XDG_CONFIG_HOME!, 'temporalio', 'temporal.toml'),
      '[profile.default]\naddress = "from-cli-profile:7233"\n',
    );
    assert.equal(endpointOf(env).address, 'from-cli-profile:7233');
  });

  test('a variable wins over the profile', () => {
    const file = fileWith(
      'temporal.toml',
      '[profile.default]\naddress = "profile:7233"\nnamespace = "profile-ns"\napi_key = "profile-key"\n',
    );
    const endpoint = endpointOf(
      isolated({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_ADDRESS: 'env:7233', TEMPORAL_API_KEY: 'env-key' }),
    );
    assert.equal(endpoint.address, 'env:7233');
    assert.equal(endpoint.namespace, 'profile-ns');
    assert.equal(endpoint.apiKey, 'env-key');
  });
});

describe('Temporal endpoint: API key, TLS and mTLS', () => {
  test('an API key turns TLS on (Temporal Cloud), unless TEMPORAL_TLS=false', () => {
    const cloud = endpointOf(
      isolated({
        TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
        TEMPORAL_NAMESPACE: 'shop.a1b2c',
        TEMPORAL_API_KEY: 'secret-key',
      }),
    );
    assert.deepEqual(cloud, {
      address: 'us-east-1.aws.api.temporal.io:7233',
      namespace: 'shop.a1b2c',
      tls: true,
      apiKey: 'secret-key',
    });
    const plain = endpointOf(isolated({ TEMPORAL_API_KEY: 'secret-key', TEMPORAL_TLS: 'false' }));
    assert.equal(plain.tls, false);
    assert.equal(plain.apiKey, 'secret-key');
  });

  test('mTLS from variables: client certificate and key, server CA, server name', () => {
    const cert = fileWith('client.pem', certificate);
    const key = fileWith('client.key', privateKey);
    const ca = fileWith('ca.pem', authority);
    const endpoint = endpointOf(
      isolated({
        TEMPORAL_ADDRESS: 'shop.a1b2c.tmprl.cloud:7233',
        TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
        TEMPORAL_TLS_SERVER_NAME: 'frontend.internal',
      }),
    );
    assert.ok(typeof endpoint.tls === 'object');
    assert.equal(text(endpoint.tls.clientCertPair?.crt), certificate);
    assert.equal(text(endpoint.tls.clientCertPair?.key), privateKey);
    assert.equal(text(endpoint.tls.serverRootCACertificate), authority);
    assert.equal(endpoint.tls.serverNameOverride, 'frontend.internal');
    assert.equal(endpoint.apiKey, undefined);
  });

  test('mTLS from a profile, certificates inline or by path', () => {
    const key = fileWith('client.key', privateKey);
    const file = fileWith(
      'temporal.toml',
      [
        '[profile.prod]',
        'address = "shop.a1b2c.tmprl.cloud:7233"',
        'namespace = "shop.a1b2c"',
        '[profile.prod.tls]',
        `client_cert_data = """${certificate}"""`,
        `client_key_path = "${key}"`,
        'server_name = "shop.a1b2c.tmprl.cloud"',
      ].join('\n'),
    );
    const endpoint = endpointOf(isolated({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' }));
    assert.ok(typeof endpoint.tls === 'object');
    assert.equal(text(endpoint.tls.clientCertPair?.crt), certificate);
    assert.equal(text(endpoint.tls.clientCertPair?.key), privateKey);
    assert.equal(endpoint.tls.serverNameOverride, 'shop.a1b2c.tmprl.cloud');
    assert.equal(endpoint.namespace, 'shop.a1b2c');
  });

  test('TEMPORAL_TLS=true alone: TLS trusting the system’s CAs', () => {
    const endpoint = endpointOf(isolated({ TEMPORAL_TLS: 'true' }));
    assert.ok(typeof endpoint.tls === 'object');
    assert.equal(endpoint.tls.clientCertPair, undefined);
    assert.equal(endpoint.tls.serverRootCACertificate, undefined);
  });

  test('gRPC headers from TEMPORAL_GRPC_META_<NAME> and the profile', () => {
    const file = fileWith(
      'temporal.toml',
      '[profile.default.grpc_meta]\nx-tenant = "from-profile"\nx-team = "orders"\n',
    );
    const endpoint = endpointOf(isolated({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_GRPC_META_X_TENANT: 'from-env' }));
    assert.deepEqual(endpoint.metadata, { 'x-tenant': 'from-env', 'x-team': 'orders' });
  });

  test('the connection is made with the endpoint’s TLS, API key and headers', () => {
    const endpoint = endpointOf(
      isolated({ TEMPORAL_ADDRESS: 'cloud:7233', TEMPORAL_API_KEY: 'secret-key', TEMPORAL_GRPC_META_X_TEAM: 'orders' }),
    );
    const { options } = lazyClientConnection(endpoint);
    assert.equal(options.address, 'cloud:7233');
    // The SDK turns `tls` into the channel's credentials.
    assert.equal(options.credentials?._isSecure(), true);
    assert.equal((options as { apiKey?: unknown }).apiKey, 'secret-key');
    assert.equal(options.metadata?.['x-team'], 'orders');
    const plain = lazyClientConnection(endpointOf(isolated({ TEMPORAL_ADDRESS: 'dev:7233' })));
    assert.equal(plain.options.credentials?._isSecure(), false);
  });

  test('a description for logs says how, never the key', () => {
    const cert = fileWith('client.pem', certificate);
    const key = fileWith('client.key', privateKey);
    const mtls = endpointOf(isolated({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key }));
    assert.equal(describeTemporalEndpoint(mtls), '127.0.0.1:7233 (namespace default, TLS with a client certificate)');
    const cloud = endpointOf(isolated({ TEMPORAL_ADDRESS: 'cloud:7233', TEMPORAL_API_KEY: 'secret-key' }));
    assert.equal(describeTemporalEndpoint(cloud), 'cloud:7233 (namespace default, TLS, API key)');
  });

  test('an unreachable endpoint fails with where and how it tried, never the key', async () => {
    const endpoint = endpointOf(isolated({ TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_API_KEY: 'secret-key' }));
    await assert.rejects(connectClient(endpoint, { connectTimeout: '1s' }), (error: Error) => {
      assert.match(error.message, /^Cannot reach Temporal at 127\.0\.0\.1:1 \(namespace default, TLS, API key\): /);
      assert.match(error.message, /TEMPORAL_ADDRESS/);
      assert.doesNotMatch(error.message, /secret-key/);
      return true;
    });
  });
});

describe('Temporal endpoint: mistakes are named, not stack traces', () => {
  test('a certificate file that does not exist names its variable and path', () => {
    const key = fileWith('client.key', privateKey);
    const message = configErrorOf(
      isolated({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/nowhere/client.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: key }),
    );
    assert.match(
      message,
      /^Invalid configuration:\n {2}TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read \/nowhere\/client\.pem$/,
    );
  });

  test('a certificate file the profile names that does not exist names the profile key and file', () => {
    const file = fileWith('temporal.toml', '[profile.default.tls]\nserver_ca_cert_path = "/nowhere/ca.pem"\n');
    const message = configErrorOf(isolated({ TEMPORAL_CONFIG_FILE: file }));
    assert.ok(
      message.includes(`profile.default.tls.server_ca_cert_path in ${file}: cannot read /nowhere/ca.pem`),
      message,
    );
  });

  test('a client certificate without its key', () => {
    const cert = fileWith('client.pem', certificate);
    const message = configErrorOf(isolated({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert }));
    assert.match(message, /TEMPORAL_TLS_CLIENT_CERT_PATH .* is set without TEMPORAL_TLS_CLIENT_KEY_PATH/);
  });

  test('a flag envconfig would read as false', () => {
    assert.match(configErrorOf(isolated({ TEMPORAL_TLS: 'yes' })), /TEMPORAL_TLS: expected true, false, 1 or 0/);
  });

  test('host verification cannot be turned off in the TypeScript SDK', () => {
    assert.match(
      configErrorOf(isolated({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })),
      /TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: .*TEMPORAL_TLS_SERVER_NAME/,
    );
  });

  test('empty variables: an empty address, or an empty API key that would turn TLS on', () => {
    const message = configErrorOf(isolated({ TEMPORAL_ADDRESS: '', TEMPORAL_API_KEY: ' ' }));
    assert.match(message, /TEMPORAL_ADDRESS: must not be empty/);
    assert.match(message, /TEMPORAL_API_KEY: must not be empty/);
  });

  test('a TEMPORAL_CONFIG_FILE that does not exist (envconfig alone would fall back to 127.0.0.1:7233)', () => {
    assert.match(
      configErrorOf(isolated({ TEMPORAL_CONFIG_FILE: '/nowhere/temporal.toml' })),
      /TEMPORAL_CONFIG_FILE: cannot read \/nowhere\/temporal\.toml/,
    );
  });

  test('a profile the file does not have', () => {
    const file = fileWith('temporal.toml', '[profile.default]\naddress = "x:7233"\n');
    const message = configErrorOf(isolated({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' }));
    assert.match(message, /Temporal profile prod of .*temporal\.toml: Profile 'prod' not found/);
  });

  test('a misspelt key in the profile, which would otherwise be ignored', () => {
    const file = fileWith('temporal.toml', '[profile.default]\nadress = "cloud:7233"\n');
    assert.match(
      configErrorOf(isolated({ TEMPORAL_CONFIG_FILE: file })),
      /key\(s\) unrecognized in profile\.default: adress/,
    );
  });

  test('a file that is not TOML', () => {
    const file = fileWith('temporal.toml', '[profile.default\naddress = \n');
    assert.match(
      configErrorOf(isolated({ TEMPORAL_CONFIG_FILE: file })),
      /Temporal profile default of .*temporal\.toml: /,
    );
  });

  test('an API key and an authorization header at once', () => {
    const message = configErrorOf(isolated({ TEMPORAL_API_KEY: 'key', TEMPORAL_GRPC_META_AUTHORIZATION: 'Bearer x' }));
    assert.match(message, /TEMPORAL_API_KEY and an authorization header .*: give one or the other/);
  });

  test('a certificate given both by path and inline', () => {
    const cert = fileWith('client.pem', certificate);
    const message = configErrorOf(
      isolated({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_CERT_DATA: certificate }),
    );
    assert.match(message, /client_cert_path and client_cert_data/);
  });

  test('the other variables’ problems are listed with the connection’s', () => {
    const message = configErrorOf(isolated({ API_PORT: 'http', TEMPORAL_TLS: 'maybe' }));
    assert.match(message, /^Invalid configuration:\n {2}API_PORT: .*\n {2}TEMPORAL_TLS: /);
  });
});

describe('Temporal endpoint: the compose check knows envconfig’s variables', () => {
  test('configVariableNames lists them', () => {
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE', 'TEMPORAL_TLS_CLIENT_KEY_PATH']) {
      assert.ok(configVariableNames.includes(name), name);
    }
  });

  test('the API may get an API key, a TLS server name and gRPC headers; a misspelt TLS variable is caught', () => {
    const { context, problems: loadProblems } = loadContext(diskFiles());
    assert.ok(context, loadProblems.join('; '));
    const compose = structuredClone(context.compose);
    const api = (compose.services as Record<string, Json>).api!.environment as Record<string, unknown>;
    Object.assign(api, {
      TEMPORAL_API_KEY: 'secret-key',
      TEMPORAL_TLS_SERVER_NAME: 'frontend.internal',
      TEMPORAL_GRPC_META_X_TEAM: 'orders',
      TEMPORAL_TLS_CERT_PATH: '/certs/client.pem',
    });
    const problems = checkProjectEnvironment({ ...context, compose });
    assert.deepEqual(
      problems.filter((problem) => problem.startsWith('api:')),
      ['api: TEMPORAL_TLS_CERT_PATH is not a variable src/config.ts reads'],
    );
  });
});
