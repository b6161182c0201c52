import { serveHttp } from '../../src/http/serve';
import { createLogger } from '../../src/logger';
import { loadGatewayConfig } from '../config';
import { createFaultSwitch } from '../faults';
import { createGatewayApp } from './app';
import { idempotencyKeyRetentionMs, openGatewayStore, type GatewayStore } from './store';

/** Expired keys are few between two purges; the bound keeps one purge from holding the database for long. */
const purgeEveryMs = 60 * 60 * 1000;
const purgeBatchSize = 1_000;
const purgeMaxBatches = 20;

/** Deletes Idempotency-Keys past their retention, now and every hour, at most purgeMaxBatches × purgeBatchSize each time. */
function purgeExpiredKeysPeriodically(store: GatewayStore, logger: ReturnType<typeof createLogger>): () => void {
  const purge = async () => {
    let purged = 0;
    for (let batch = 0; batch < purgeMaxBatches; batch += 1) {
      const deleted = await store.purgeKeys(Date.now() - idempotencyKeyRetentionMs, purgeBatchSize);
      purged += deleted;
      if (deleted < purgeBatchSize) break;
    }
    if (purged > 0) logger.info({ purged }, 'expired idempotency keys purged');
  };
  const run = () => {
    purge().catch((error: unknown) => logger.error({ err: error }, 'idempotency key purge failed'));
  };
  run();
  const timer = setInterval(run, purgeEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.logLevel);
  const store = await openGatewayStore(config.databaseUrl);
  logger.info({ database: config.databaseUrl, faults: config.faults }, 'gateway database open');
  const stopPurging = purgeExpiredKeysPeriodically(store, logger);
  const app = createGatewayApp(store, createFaultSwitch(config.faults), logger);
  await serveHttp({
    name: 'gateway',
    app,
    host: config.host,
    port: config.port,
    logger,
    onStopped: () => {
      stopPurging();
      store.close();
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
