import { loadConfig } from '../config';
import { serveHttp } from '../http/serve';
import { createLogger } from '../logger';
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
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    logger.warn('the codec server decrypts for anyone who reaches it: keep it behind the Web UI’s authentication');
  }
  await serveHttp({
    name: 'codec server',
    app,
    host,
    port,
    logger,
    listeningFields: { corsOrigins, keyIds: config.payloadEncryption.keyring.keyIds },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
