/**
 * The Prisma CLI's configuration. One config serves ten schemas (four
 * services and the read model x SQLite/PostgreSQL): scripts/prisma.ts (and
 * applyMigrations in src/db) pick one by setting
 *
 *   PRISMA_SERVICE       orders | inventory | payments | shipping | views
 *   PRISMA_PROVIDER      sqlite | postgres
 *   PRISMA_DATABASE_URL  the database (also the schemas' datasource url;
 *                        generate, which opens none, gets a placeholder)
 *
 * Run Prisma through `npx tsx scripts/prisma.ts ...` rather than `npx prisma`.
 *
 * Offline setup (docs/DEPENDENCIES.md): Prisma 6.19 with the JS schema engine
 * and driver adapters, so no native engine is downloaded.
 *  - SQLite: @prisma/adapter-libsql; shadow database: a temporary file.
 *  - PostgreSQL: @prisma/adapter-pg 7.10 (npm alias @prisma/adapter-pg-migrate),
 *    because `migrate deploy` fails with adapter-pg 6.19 (prisma/orm#27403). The
 *    application itself uses adapter-pg 6.19 (src/db), matching @prisma/client.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { databaseNames, providers, schemaPath } from './src/db/layout';
import type { DatabaseName, DatabaseProvider } from './src/db/layout';
import { assembleMigrationHistory } from './src/db/migration-history';
import { sqliteAdapter } from './src/db/adapters';
import { assertSupportedPostgresUrl, databaseProvider } from './src/db/url';

function pick<T extends string>(variable: string, allowed: readonly T[]): T {
  const value = process.env[variable];
  if (!value || !(allowed as readonly string[]).includes(value)) {
    throw new Error(
      `prisma.config.ts: set ${variable} to one of ${allowed.join(', ')} ` +
        `(got ${JSON.stringify(value ?? null)}). Run Prisma via: npx tsx scripts/prisma.ts <command>`,
    );
  }
  return value as T;
}

const service: DatabaseName = pick('PRISMA_SERVICE', databaseNames);
const provider: DatabaseProvider = pick('PRISMA_PROVIDER', providers);

/**
 * The database's own migrations and its shared fragments' (the services'
 * outbox), copied into one temporary folder for this command
 * (src/db/migration-history.ts) and deleted when it exits.
 */
const migrationHistory = assembleMigrationHistory(service, provider);
process.on('exit', migrationHistory.remove);

/**
 * Prisma 6.19's wasm schema engine arms timers through setTimeout but has no
 * clearTimeout binding, so a timeout it sets up (on PostgreSQL, 10 s, around
 * `migrate deploy`'s advisory lock) outlives the command: the CLI printed its
 * result and then idled ~10 s before exiting. Timers armed from wasm are
 * unref'd, so they still fire while the engine is busy (I/O keeps the process
 * alive) but no longer hold the process open once it is done. applyMigrations
 * additionally requires deploy's success message, so an early exit could not
 * pass for success.
 */
if (provider === 'postgres') {
  const nativeSetTimeout = globalThis.setTimeout;
  const setTimeoutUnrefFromWasm = (...args: Parameters<typeof setTimeout>) => {
    const timer = nativeSetTimeout(...args);
    if (new Error().stack?.includes('wasm://')) timer.unref();
    return timer;
  };
  // Keeps setTimeout's own properties (util.promisify.custom).
  Object.defineProperties(setTimeoutUnrefFromWasm, Object.getOwnPropertyDescriptors(nativeSetTimeout));
  globalThis.setTimeout = setTimeoutUnrefFromWasm as typeof setTimeout;
}

function databaseUrl(): string {
  const url = process.env.PRISMA_DATABASE_URL;
  if (!url) {
    throw new Error(`prisma.config.ts: PRISMA_DATABASE_URL is not set (${service}/${provider})`);
  }
  if (databaseProvider(url) !== provider) {
    throw new Error(`prisma.config.ts: PRISMA_DATABASE_URL is not a ${provider} URL (${service})`);
  }
  return url;
}

/**
 * pg connection options parsed from the URL. Not `{ connectionString }`: the
 * adapter's shadow database (migrate diff --from-migrations) is opened as
 * `{ ...config, database: <temporary name> }`, and pg lets a connectionString
 * override `database`, which would point the shadow at the real database.
 * pg-connection-string is pg's own parser, resolved from pg's location.
 */
function pgConfig(url: string): Record<string, unknown> {
  assertSupportedPostgresUrl(url);
  const requireFromPg = createRequire(createRequire(import.meta.url).resolve('pg'));
  const { parseIntoClientConfig } = requireFromPg('pg-connection-string') as {
    parseIntoClientConfig: (connectionString: string) => Record<string, unknown>;
  };
  // allowExitOnIdle: the CLI does not close the pool, so without it every
  // command waits out pg's 10 s idle timeout before exiting.
  return { ...parseIntoClientConfig(url), allowExitOnIdle: true };
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/** Wraps the adapter's (private) performIO so "char" result columns read as text. */
function mapCharColumnsToText<A extends object>(queryable: A): A {
  const io = queryable as unknown as {
    // A multi-statement script (simple query protocol) yields an array of results.
    performIO(query: unknown): Promise<{ fields?: { dataTypeID: number }[] } | { fields?: { dataTypeID: number }[] }[]>;
    startTransaction?(...args: unknown[]): Promise<object>;
  };
  const performIO = io.performIO.bind(queryable);
  io.performIO = async (query) => {
    const result = await performIO(query);
    for (const part of Array.isArray(result) ? result : [result]) {
      for (const field of part.fields ?? []) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    }
    return result;
  };
  if (io.startTransaction) {
    const startTransaction = io.startTransaction.bind(queryable);
    io.startTransaction = async (...args) => mapCharColumnsToText(await startTransaction(...args));
  }
  return queryable;
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: schemaPath(service, provider),
  migrations: { path: migrationHistory.dir },
  async adapter() {
    if (provider === 'sqlite') {
      const { PrismaLibSQL } = await import('@prisma/adapter-libsql');
      // The application's adapter (busy_timeout, WAL, BEGIN IMMEDIATE; see
      // src/db/adapters.ts), so a deploy waits for another process's lock
      // instead of failing at once.
      const adapter = sqliteAdapter(databaseUrl());
      /**
       * The libsql adapter's shadow database is `:memory:`, but @libsql/client
       * hands its connection to each transaction and opens a new one for the
       * next statement, and every `:memory:` connection is a separate, empty
       * database. A temporary file keeps one database across connections.
       *
       * And the 6.19 schema engine replays each migration into the shadow
       * with executeRaw, i.e. one prepared statement, which runs only the
       * first statement of the script: `migrate diff --from-migrations`
       * reported every table but the first as missing. Parameterless
       * executeRaw on the shadow is therefore run as a script (`migrate
       * deploy` already uses executeScript on the real database).
       */
      adapter.connectToShadowDb = async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'prisma-shadow-'));
        const shadow = await new PrismaLibSQL({ url: `file:${path.join(dir, 'shadow.db')}` }).connect();
        const executeScript = shadow.executeScript.bind(shadow);
        const executeRaw = shadow.executeRaw.bind(shadow);
        shadow.executeRaw = async (query) => {
          if (query.args.length > 0) return executeRaw(query);
          await executeScript(query.sql);
          return 0;
        };
        const close = shadow.dispose.bind(shadow);
        shadow.dispose = async () => {
          try {
            await close();
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        };
        return shadow;
      };
      return adapter;
    }
    const { PrismaPg } = await import('@prisma/adapter-pg-migrate');
    const config = pgConfig(databaseUrl());

    /**
     * Two fixes to adapter-pg 7.10 as the 6.19 schema engine uses it (both
     * needed by `migrate diff --from-migrations`, i.e. `check` and
     * `new-migration`; `migrate deploy` works without them):
     *
     * 1. The engine's schema describer selects pg_catalog columns of type
     *    "char" (OID 18, such as pg_constraint.contype), which the adapter does
     *    not map ("Column type 'char' could not be deserialized from the
     *    database"). They are single characters: map them to text.
     * 2. Its connectToShadowDb drops the temporary database while its pool
     *    still holds a connection ("database ... is being accessed by other
     *    users"), failing the command and leaving the database behind. Same
     *    steps here, with the pool closed before the drop.
     */
    class PrismaPgForMigrate extends PrismaPg {
      override async connect() {
        return mapCharColumnsToText(await super.connect());
      }

      override async connectToShadowDb() {
        const admin = await this.connect();
        const database = `prisma_migrate_shadow_db_${randomUUID()}`;
        await admin.executeScript(`CREATE DATABASE "${database}"`);
        const dropShadow = async () => {
          await admin.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
          await admin.dispose();
        };
        try {
          const shadow = await new PrismaPgForMigrate({ ...config, database }).connect();
          const closePool = shadow.dispose.bind(shadow);
          shadow.dispose = async () => {
            try {
              await closePool();
            } finally {
              await dropShadow();
            }
          };
          return shadow;
        } catch (error) {
          await dropShadow();
          throw error;
        }
      }
    }
    return new PrismaPgForMigrate(config);
  },
});
