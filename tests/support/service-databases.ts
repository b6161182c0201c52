import {
  applyMigrations,
  closeServiceDatabases,
  createServiceDb,
  openServiceDatabases,
  seedCatalogue,
  serviceNames,
  type DatabaseName,
  type DatabaseProvider,
  type ServiceDatabases,
  type ServiceName,
} from '../../src/db';
import { provisionDatabases } from '../../tooling/db/provision';

export type Provider = DatabaseProvider;

/** The providers every database test runs on, one suite each. */
export const providers: readonly Provider[] = ['sqlite', 'postgres'];

/** Why a suite on `provider` cannot run on this machine (PostgreSQL needs a role that may create databases), or false. */
export function skipReason(provider: Provider): string | false {
  return provider === 'postgres' && !process.env.TEST_POSTGRES_URL
    ? 'TEST_POSTGRES_URL is not set (.ci/run sets it)'
    : false;
}

/** A suite's own databases, migrated; `close` disconnects and drops them. */
export interface TestDatabases<Db> {
  db: Db;
  urls: Record<DatabaseName, string>;
  close: () => Promise<void>;
}

/** Fresh databases of the four services, migrated, the inventory's catalogue seeded. */
export async function migratedServiceDatabases(provider: Provider): Promise<TestDatabases<ServiceDatabases>> {
  const { urls, drop } = await provisionDatabases(provider);
  try {
    await Promise.all(serviceNames.map((service) => applyMigrations(service, urls[service])));
    const db = openServiceDatabases(urls);
    await seedCatalogue(db.inventory);
    return {
      db,
      urls,
      close: async () => {
        await closeServiceDatabases(db);
        await drop();
      },
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

/** A fresh database of one service, migrated (the inventory's with its catalogue seeded). */
export async function migratedServiceDatabase<S extends ServiceName>(
  provider: Provider,
  service: S,
): Promise<TestDatabases<ServiceDatabases[S]>> {
  const { urls, drop } = await provisionDatabases(provider);
  try {
    await applyMigrations(service, urls[service]);
    const db: ServiceDatabases[S] = createServiceDb(service, urls[service]);
    if (service === 'inventory') await seedCatalogue(db as ServiceDatabases['inventory']);
    return {
      db,
      urls,
      close: async () => {
        await db.$disconnect();
        await drop();
      },
    };
  } catch (error) {
    await drop();
    throw error;
  }
}
