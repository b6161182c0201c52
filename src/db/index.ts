/**
 * Database per service: each service opens only its own database, SQLite
 * (`file:` URL, the default) or PostgreSQL (`postgresql://`). The read model
 * (src/read-model) has a fifth, `views`, of the same kind.
 *
 *   const db = createOrdersDb(config.databaseUrls.orders);   // OrdersDb
 *   await applyMigrations('orders', config.databaseUrls.orders);
 *   await pingDatabase(db);                                  // readiness
 *   await db.$disconnect();
 *
 * Open one client per database per process and share it (see adapters.ts).
 */
import type { DatabaseName, ServiceName } from './layout';
import { createInventoryDb, type InventoryDb } from './inventory';
import { createOrdersDb, type OrdersDb } from './orders';
import { createPaymentsDb, type PaymentsDb } from './payments';
import { sqlReaderOf, type ServiceDbOptions } from './service-db';
import { createShippingDb, type ShippingDb } from './shipping';
import { createViewsDb, type ViewsDb } from './views';

export { createInventoryDb, createOrdersDb, createPaymentsDb, createShippingDb, createViewsDb, sqlReaderOf };
export type { SqlReader, SqlValue } from './sql-reader';
export type { InventoryDb, OrdersDb, PaymentsDb, ShippingDb, ViewsDb, ServiceDbOptions };
export { applyAllMigrations, applyMigrations, type DatabaseUrls, type MigrationOutcome } from './migrate';
export { catalogue, seedCatalogue, type CatalogueProduct } from './inventory-catalogue';
export { PrismaCliError } from './prisma-cli';
export { databaseProvider, databaseUrlFromEnv, defaultDatabaseUrl, redactUrl, DatabaseUrlError } from './url';
export { databaseNames, readModelDatabase, serviceNames } from './layout';
export type { DatabaseName, DatabaseProvider, ServiceName } from './layout';

/** Each service's client type. */
export interface ServiceDatabases {
  orders: OrdersDb;
  inventory: InventoryDb;
  payments: PaymentsDb;
  shipping: ShippingDb;
}

export type AnyServiceDb = ServiceDatabases[ServiceName];

/** Every database's client type: the services' and the read model's. */
export interface Databases extends ServiceDatabases {
  views: ViewsDb;
}

const factories: { [D in DatabaseName]: (url: string, options?: ServiceDbOptions) => Databases[D] } = {
  orders: createOrdersDb,
  inventory: createInventoryDb,
  payments: createPaymentsDb,
  shipping: createShippingDb,
  views: createViewsDb,
};

/**
 * Opens a database by name, e.g. `createServiceDb('inventory', url)`: InventoryDb,
 * `createServiceDb('views', url)`: ViewsDb.
 */
export function createServiceDb<D extends DatabaseName>(
  database: D,
  url: string,
  options?: ServiceDbOptions,
): Databases[D] {
  return factories[database](url, options);
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

/**
 * Disconnects, but waits at most `ms`: returns false if the client did not
 * close in time. On PostgreSQL, adapter-pg's pool can keep a client checked
 * out after an interactive transaction's timeout raced its COMMIT
 * (prisma/orm#29952), and then `$disconnect()` waits for ever; a process
 * that is stopping must not wait with it.
 */
export async function disconnectWithin(db: { $disconnect(): Promise<void> }, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([db.$disconnect().then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function closeServiceDatabases(databases: ServiceDatabases): Promise<void> {
  await Promise.all(Object.values(databases).map((db: AnyServiceDb) => db.$disconnect()));
}
