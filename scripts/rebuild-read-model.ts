/**
 * Rebuilds the read model (src/read-model) from the four services' outboxes:
 *
 *   npx tsx scripts/rebuild-read-model.ts     # *_DATABASE_URL as for npm start, VIEWS_DATABASE_URL for the views
 *
 * Migrates the read model's database, wipes it, re-applies every outbox event
 * (delivered or not) and prints progress. Safe while the relays run (see
 * rebuild.ts). Exit status: 0 rebuilt, 1 it failed, 2 usage.
 */
import { applyMigrations, closeServiceDatabases, createViewsDb, openServiceDatabases, redactUrl } from '../src/db';
import { databaseUrlFromEnv } from '../src/db/url';
import { rebuildReadModel, type RebuildProgress } from '../src/read-model';
import { serviceNames, type ServiceName } from '../src/temporal/names';

const usage = `Usage: npx tsx scripts/rebuild-read-model.ts

Wipes the read model at VIEWS_DATABASE_URL (default file:data/views.db) and rebuilds it from the outboxes at
ORDERS_DATABASE_URL, INVENTORY_DATABASE_URL, PAYMENTS_DATABASE_URL and SHIPPING_DATABASE_URL.`;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function report(progress: RebuildProgress): void {
  switch (progress.phase) {
    case 'wiped':
      console.log('read model wiped');
      break;
    case 'read':
      if (progress.done) console.log(`  ${progress.service}: ${progress.events} event(s) read`);
      break;
    case 'folded':
      console.log(`  ${progress.orders} of ${progress.of} order(s) projected`);
      break;
  }
}

async function main(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error(usage);
    return args.includes('--help') ? 0 : 2;
  }
  const serviceUrls = Object.fromEntries(
    serviceNames.map((service) => [service, databaseUrlFromEnv(service)]),
  ) as Record<ServiceName, string>;
  const viewsUrl = databaseUrlFromEnv('views');
  for (const service of serviceNames) console.log(`${service}: ${redactUrl(serviceUrls[service])}`);
  console.log(`views: ${redactUrl(viewsUrl)}`);

  const migrated = await applyMigrations('views', viewsUrl);
  if (migrated.applied.length > 0) console.log(`views: applied ${migrated.applied.join(', ')}`);
  const sources = openServiceDatabases(serviceUrls);
  const views = createViewsDb(viewsUrl);
  try {
    const result = await rebuildReadModel(sources, views, { onProgress: report });
    const read = serviceNames.reduce((sum, service) => sum + result.eventsRead[service], 0);
    for (const service of serviceNames) {
      const skipped = result.unreadable[service];
      if (skipped.length > 0) {
        console.warn(`  ${service}: ${skipped.length} unreadable event(s) skipped: ${skipped.slice(0, 20).join(', ')}`);
      }
    }
    console.log(`Rebuilt ${result.orders} order view(s) from ${read} event(s) in ${seconds(result.durationMs)}`);
    return 0;
  } finally {
    await Promise.allSettled([closeServiceDatabases(sources), views.$disconnect()]);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
