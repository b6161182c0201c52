/**
 * Database per service: each service opens only its own database, SQLite
 * (`file:` URL, the default) or PostgreSQL (`postgresql://`).
 *
 *   const db = createOrdersDb(config.databaseUrls.orders);   // OrdersDb
 *   await applyMigrations('orders', config.databaseUrls.orders);
 *   await pingDatabase(db);                                  // readiness
 *   await db.$disconnect();
 *
 * Open one client per database per process and share it (see adapters.ts).
 */
import type { ServiceName } from './layout';
import { createInventoryDb, type InventoryDb } from './inventory';
import { createOrdersDb, type OrdersDb } from './orders';
import { createPaymentsDb, type PaymentsDb } from './payments';
import type { ServiceDbOptions } from './service-db';
import { createShippingDb, type ShippingDb } from './shipping';

export { createInventoryDb, createOrdersDb, createPaymentsDb, createShippingDb };
export type { InventoryDb, OrdersDb, PaymentsDb, ShippingDb, ServiceDbOptions };
export { applyAllMigrations, applyMigrations, type MigrationOutcome } from './migrate';
export { catalogue, seedCatalogue, type CatalogueProduct } from './inventory-catalogue';
export { PrismaCliError } from './prisma-cli';
export { databaseProvider, databaseUrlFromEnv, defaultDatabaseUrl, redactUrl, DatabaseUrlError } from './url';
export type { DatabaseProvider } from './layout';

/** Each service's client type. */
export interface ServiceDatabases {
  orders: OrdersDb;
  inventory: InventoryDb;
  payments: PaymentsDb;
  shipping: ShippingDb;
}

export type AnyServiceDb = ServiceDatabases[ServiceName];

const factories: { [S in ServiceName]: (url: string, options?: ServiceDbOptions) => ServiceDatabases[S] } = {
  orders: createOrdersDb,
  inventory: createInventoryDb,
  payments: createPaymentsDb,
  shipping: createShippingDb,
};

/** Opens a service's database by name, e.g. `createServiceDb('inventory', url)`: InventoryDb. */
export function createServiceDb<S extends ServiceName>(
  service: S,
  url: string,
  options?: ServiceDbOptions,
): ServiceDatabases[S] {
  return factories[service](url, options);
}

/** What pingDatabase needs: any service's client has it. */
export interface RawQueryable {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
}

/**
 * Readiness probe: `SELECT 1` through the client (and so through its adapter
 * and connection pool). Rejects if the database does not answer within
 * `timeoutMs` (a PostgreSQL pool can otherwise wait long on an unreachable
 * host).
 */
export async function pingDatabase(db: RawQueryable, timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`The database did not answer SELECT 1 within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([db.$queryRaw`SELECT 1`, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens every service's database: for tools that see across services (tests, checker, chaos), never a service. */
export function openServiceDatabases(urls: Record<ServiceName, string>): ServiceDatabases {
  return {
    orders: createOrdersDb(urls.orders),
    inventory: createInventoryDb(urls.inventory),
    payments: createPaymentsDb(urls.payments),
    shipping: createShippingDb(urls.shipping),
  };
}

export async function closeServiceDatabases(databases: ServiceDatabases): Promise<void> {
  await Promise.all(Object.values(databases).map((db: AnyServiceDb) => db.$disconnect()));
}
