import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import * as bareActivities from '../../bench/bare/activities';
import { bareTaskQueues, bareWorkflowTaskQueue, sagaActivityServices } from '../../bench/bare/queues';
import type { bareSaga } from '../../bench/bare/workflows';
import { loadConfig } from '../../src/config';
import { connectClient, connectWorker, type TemporalEndpoint } from '../../src/temporal/connection';
import { serviceNames } from '../../src/temporal/names';
import { startCluster, type Cluster } from '../../tooling/cluster/cluster';
import { installQuietRuntime, quietLogger } from '../support/quiet-logger';
import { clusterTestSkip } from '../support/cluster-skip';

/**
 * Any Temporal endpoint (issue 16): the real cluster's frontend serves TLS and requires a client certificate
 * (mTLS), with a CA and certificates made here with openssl. A client and workers configured only through
 * @temporalio/envconfig (TEMPORAL_* variables, or a TOML profile) connect and run a workflow; a plain-text
 * connection, one without a client certificate and one that does not trust the server's CA are refused.
 */

const postgresUrl = process.env.TEST_POSTGRES_URL;
const skip = clusterTestSkip(postgresUrl);

const serverName = 'localhost';
const bareWorkflowsPath = fileURLToPath(new URL('../../bench/bare/workflows.ts', import.meta.url));

interface Certificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing the cluster serves. */
  otherCa: string;
}

/** A CA, the frontend's certificate (also the internal worker's client certificate) and a client's, all for a day. */
function makeCertificates(dir: string): Certificates {
  // Run in `dir` with relative names: no argument holds a space, so a command reads as one line.
  const openssl = (command: string) =>
    execFileSync('openssl', command.split(' '), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  const selfSignedCa = (name: string, subject: string) =>
    openssl(
      `req -x509 ${newKey} -keyout ${name}.key -out ${name}.pem -days 1 -subj ${subject} ` +
        '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign',
    );
  const signed = (name: string, subject: string, extensions: string) => {
    writeFileSync(path.join(dir, `${name}.ext`), extensions);
    openssl(`req ${newKey} -keyout ${name}.key -out ${name}.csr -subj ${subject}`);
    openssl(
      `x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out ${name}.pem -extfile ${name}.ext`,
    );
  };
  selfSignedCa('ca', '/CN=order-saga-test-ca');
  selfSignedCa('other-ca', '/CN=someone-else');
  const endEntity = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n';
  // Server and client auth: the cluster's services present it to the frontend as well (systemWorker, client).
  signed(
    'server',
    `/CN=${serverName}`,
    `${endEntity}subjectAltName=DNS:${serverName},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`,
  );
  signed('client', '/CN=order-saga-worker', `${endEntity}extendedKeyUsage=clientAuth\n`);
  const file = (name: string) => path.join(dir, name);
  return {
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    otherCa: file('other-ca.pem'),
  };
}

describe('Temporal cluster over mTLS, reached through envconfig', { skip }, () => {
  let dir: string;
  let certificates: Certificates;
  let cluster: Cluster;

  /** An environment with nothing but what is given: no profile file of the user's (HOME is an empty directory). */
  const only = (variables: Record<string, string>): NodeJS.ProcessEnv => ({
    HOME: mkdtempSync(path.join(dir, 'home-')),
    ...variables,
  });
  /** The TEMPORAL_* variables of a client with its certificate, trusting the test CA. */
  const mtlsVariables = (): Record<string, string> => ({
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certificates.ca,
    TEMPORAL_TLS_SERVER_NAME: serverName,
    TEMPORAL_TLS_CLIENT_CERT_PATH: certificates.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: certificates.clientKey,
  });
  const endpointOf = (env: NodeJS.ProcessEnv): TemporalEndpoint => loadConfig(env).temporal.endpoint;
  /**
   * The error a connection made with `variables` meets, undefined if the frontend answers. A worker's connection (the
   * SDK's native one) says why at once; a client's (grpc-js) retries until its connect timeout.
   */
  const refusal = async (variables: Record<string, string>, via: 'worker' | 'client'): Promise<string | undefined> => {
    const endpoint = endpointOf(only(variables));
    try {
      const connection =
        via === 'worker' ? await connectWorker(endpoint) : await connectClient(endpoint, { connectTimeout: '3s' });
      await connection.close();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };

  before(
    async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'cluster-tls-'));
      certificates = makeCertificates(dir);
      cluster = await startCluster({
        postgresUrl: postgresUrl!,
        name: 'temporal_tls_test',
        tls: {
          certFile: certificates.serverCert,
          keyFile: certificates.serverKey,
          caFile: certificates.ca,
          serverName,
        },
        log: (line) => console.log(`[cluster] ${line}`),
      });
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a client configured only by TEMPORAL_* variables connects over mTLS and describes the namespace', async () => {
    const endpoint = endpointOf(only(mtlsVariables()));
    const connection = await connectClient(endpoint, { connectTimeout: '10s' });
    try {
      const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: endpoint.namespace });
      assert.equal(namespaceInfo?.name, cluster.namespace);
    } finally {
      await connection.close();
    }
  });

  test('workers configured only by a TOML profile run a workflow over mTLS', { timeout: 120_000 }, async () => {
    const profile = path.join(dir, 'temporal.toml');
    writeFileSync(
      profile,
      [
        '[profile.cluster]',
        `address = "${cluster.address}"`,
        `namespace = "${cluster.namespace}"`,
        '[profile.cluster.tls]',
        `server_ca_cert_path = "${certificates.ca}"`,
        `server_name = "${serverName}"`,
        `client_cert_path = "${certificates.clientCert}"`,
        `client_key_path = "${certificates.clientKey}"`,
        '',
      ].join('\n'),
    );
    const endpoint = endpointOf(only({ TEMPORAL_CONFIG_FILE: profile, TEMPORAL_PROFILE: 'cluster' }));
    assert.equal(endpoint.address, cluster.address);
    installQuietRuntime();
    const workerConnection = await connectWorker(endpoint);
    const clientConnection = await connectClient(endpoint);
    try {
      // The bare saga's layout: the workflow on the orders queue, its six activities on each service's queue.
      const workflowBundle = await bundleWorkflowCode({ workflowsPath: bareWorkflowsPath, logger: quietLogger });
      const workers = await Promise.all(
        serviceNames.map((service) =>
          Worker.create({
            connection: workerConnection,
            namespace: endpoint.namespace,
            taskQueue: bareTaskQueues[service],
            activities: bareActivities,
            ...(bareTaskQueues[service] === bareWorkflowTaskQueue && { workflowBundle }),
          }),
        ),
      );
      const client = new Client({ connection: clientConnection, namespace: endpoint.namespace });
      const done = await whileRunning(workers, () =>
        client.workflow.execute<typeof bareSaga>('bareSaga', {
          taskQueue: bareWorkflowTaskQueue,
          workflowId: `cluster-tls-${randomUUID()}`,
        }),
      );
      assert.equal(done, sagaActivityServices.length);
    } finally {
      await clientConnection.close();
      await workerConnection.close();
    }
  });

  test('a plain-text connection is refused, a worker’s and a client’s', async () => {
    const plain = { TEMPORAL_ADDRESS: cluster.address, TEMPORAL_NAMESPACE: cluster.namespace };
    const worker = await refusal(plain, 'worker');
    assert.ok(worker, 'a plain-text worker connection got an answer from a TLS frontend');
    assert.match(
      worker,
      /^Cannot reach Temporal at 127\.0\.0\.1:\d+ \(namespace \S+, plain text\): Failed to call GetSystemInfo: /,
    );
    const client = await refusal(plain, 'client');
    assert.ok(client, 'a plain-text client got an answer from a TLS frontend');
    assert.match(client, /\(namespace \S+, plain text\): Failed to connect before the deadline/);
  });

  test('TLS without a client certificate is refused: the frontend requires one', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...tlsOnly } = mtlsVariables();
    const message = await refusal(tlsOnly, 'worker');
    assert.ok(message, 'a connection without a client certificate got an answer');
    // The client's side of the handshake completes; the frontend then drops the connection (closed or broken pipe).
    assert.match(message, /\(namespace \S+, TLS\): Failed to call GetSystemInfo: /);
  });

  test('a connection that does not trust the server’s CA refuses the server', async () => {
    const message = await refusal(
      { ...mtlsVariables(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: certificates.otherCa },
      'worker',
    );
    assert.ok(message, 'a connection trusting another CA got an answer');
    assert.match(message, /InvalidCertificate\(UnknownIssuer\)/);
  });
});

/** Runs the workers while `work` runs, then shuts them down; returns what `work` returned. */
async function whileRunning<T>(workers: Worker[], work: () => Promise<T>): Promise<T> {
  const running = workers.map((worker) => worker.run());
  try {
    return await work();
  } finally {
    for (const worker of workers) worker.shutdown();
    await Promise.all(running);
  }
}
