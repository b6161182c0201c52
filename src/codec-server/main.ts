import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { reportReadyToParent, stopWhenParentGoes } from '../parent-process';
import { payloadCodecFromConfig } from '../temporal/data-converter';
import { createCodecApp } from './app';

/** `npm run codec-server`: decodes payloads for the Web UI with the keys of PAYLOAD_ENCRYPTION_KEYS. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('codec-server', config.logLevel);
  const codec = payloadCodecFromConfig(config.payloadEncryption);
  const { host, port, corsOrigins } = config.codecServer;
  const app = createCodecApp({
    codec,
    allowedOrigins: corsOrigins,
    namespace: config.temporal.namespace,
    logger,
  });
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port: actualPort } = server.address() as AddressInfo;
  logger.info(
    { url: `http://${host}:${actualPort}`, corsOrigins, keyIds: config.payloadEncryption.keyring.keyIds },
    'codec server listening',
  );
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    logger.warn('the codec server decrypts for anyone who reaches it: keep it behind the Web UI’s authentication');
  }
  reportReadyToParent();
  const stop = () => {
    server.close(() => {
      logger.info('codec server stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  stopWhenParentGoes(logger, stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
