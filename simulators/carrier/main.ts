import { serveHttp } from '../../src/http/serve';
import { createLogger } from '../../src/logger';
import { loadCarrierConfig } from '../config';
import { createFaultSwitch } from '../faults';
import { createCarrierApp } from './app';

async function main(): Promise<void> {
  const config = loadCarrierConfig();
  const logger = createLogger('carrier', config.logLevel);
  const app = createCarrierApp(createFaultSwitch(config.faults), logger);
  await serveHttp({ name: 'carrier', app, host: config.host, port: config.port, logger });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
