import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCodecApp } from '../../src/codec-server/app';
import { payloadCodecFromConfig, type PayloadEncryptionConfig } from '../../src/temporal/data-converter';
import { newKeyEntry, payloadEncryptionKeys } from '../../src/temporal/encryption-keys';
import { testLogger } from './quiet-logger';

/**
 * The test process's keys: PAYLOAD_ENCRYPTION_KEYS, made once per process when unset and put in its environment, so
 * the processes a test starts against the stack (the invariant checker, an API) inherit them, as `npm start`'s
 * children inherit its development key.
 */
export function testProcessKeys(): string {
  process.env.PAYLOAD_ENCRYPTION_KEYS ||= newKeyEntry('test');
  return process.env.PAYLOAD_ENCRYPTION_KEYS;
}

/** Encryption on, as in production: the given keys (the first encrypts, all decrypt), or the test process's. */
export function testPayloadEncryption(...entries: string[]): PayloadEncryptionConfig {
  const keys = entries.length > 0 ? entries : [testProcessKeys()];
  return { mode: 'on', keyring: payloadEncryptionKeys.parse(keys.join(',')) };
}

export interface TestCodecServer {
  url: string;
  close(): Promise<void>;
}

/** The codec server of `npm run codec-server`, in process on a free loopback port, for a Web UI on `uiPort`. */
export async function startTestCodecServer(
  encryption: PayloadEncryptionConfig,
  { uiPort, namespace = 'default' }: { uiPort: number; namespace?: string },
): Promise<TestCodecServer> {
  const app = createCodecApp({
    codec: payloadCodecFromConfig(encryption),
    allowedOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
    namespace,
    logger: testLogger('codec-server', 'silent'),
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
