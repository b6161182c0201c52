/**
 * Applies a database's committed migrations (a service's, or the read
 * model's) with
 * `prisma migrate deploy` (the same command production uses), choosing the
 * SQLite or PostgreSQL migrations from the URL's scheme.
 */
import {
  databaseNames,
  writeComposedSchema,
  type DatabaseName,
  type DatabaseProvider,
  type ServiceName,
} from './layout';
import { PrismaCliError, runPrisma, type PrismaCliResult } from './prisma-cli';
import {
  assertSupportedPostgresUrl,
  databaseIdentity,
  databaseProvider,
  ensureSqliteDir,
  normalizeSqliteUrl,
  redactUrl,
} from './url';

export interface MigrationOutcome {
  /** The database migrated: a service's, or the read model's (`views`). */
  service: DatabaseName;
  provider: DatabaseProvider;
  /** Names of the migrations this call applied; empty when the database was up to date. */
  applied: string[];
  durationMs: number;
  output: PrismaCliResult;
}

export interface ApplyMigrationsOptions {
  /** Copy Prisma's output to this process's stdout/stderr (the CLI script does). */
  echo?: boolean;
}

/**
 * Brings one database up to date. Resolves once `prisma migrate
 * deploy` has exited successfully; rejects with a PrismaCliError whose message
 * includes Prisma's output otherwise. A SQLite database's folder is created.
 */
export async function applyMigrations(
  service: DatabaseName,
  url: string,
  options: ApplyMigrationsOptions = {},
): Promise<MigrationOutcome> {
  const started = performance.now();
  const provider = databaseProvider(url);
  let target = url.trim();
  if (provider === 'sqlite') {
    target = normalizeSqliteUrl(target);
    ensureSqliteDir(target);
  } else {
    assertSupportedPostgresUrl(target);
  }
  // deploy reads the schema only for its datasource, but it must exist (it is
  // generated, so a fresh clone that skipped postinstall has none yet).
  writeComposedSchema(service, provider);
  const output = await runPrisma(['migrate', 'deploy'], { service, provider, url: target }, { echo: options.echo });
  const text = output.stdout + output.stderr;
  if (!/All migrations have been successfully applied|No pending migrations to apply/.test(text)) {
    throw new PrismaCliError(
      `prisma migrate deploy [${service}/${provider} ${redactUrl(target)}] exited 0 without reporting success\n${text.trim()}`,
      output,
    );
  }
  return {
    service,
    provider,
    applied: appliedMigrations(text),
    durationMs: Math.round(performance.now() - started),
    output,
  };
}

/** URLs by database: every service's, and optionally the read model's. */
export type DatabaseUrls = Record<ServiceName, string> & Partial<Record<DatabaseName, string>>;

/** The databases `urls` names, in databaseNames order. */
function namedDatabases(urls: Partial<Record<DatabaseName, string>>): DatabaseName[] {
  return databaseNames.filter((database) => urls[database] !== undefined);
}

/**
 * Migrates every database given a URL (the four services', and the read
 * model's when `urls.views` is set), in parallel. Refuses URLs where two
 * share a database: each one's migrations own theirs (the services all have
 * an IdempotencyRecord table, and every one a _prisma_migrations history).
 * If any fails, the others still finish and the error lists every failure.
 */
export async function applyAllMigrations(
  urls: DatabaseUrls,
  options: ApplyMigrationsOptions = {},
): Promise<MigrationOutcome[]> {
  assertDistinctDatabases(urls);
  const databases = namedDatabases(urls);
  const results = await Promise.allSettled(
    databases.map((database) => applyMigrations(database, urls[database] ?? '', options)),
  );
  const failures = results.flatMap((result, index) =>
    result.status === 'rejected' ? [`${databases[index]}: ${errorMessage(result.reason)}`] : [],
  );
  if (failures.length > 0) {
    throw new Error(`Migrations failed for ${failures.length} database(s):\n${failures.join('\n')}`);
  }
  return results.map((result) => (result as PromiseFulfilledResult<MigrationOutcome>).value);
}

export function assertDistinctDatabases(urls: Partial<Record<DatabaseName, string>>): void {
  const owners = new Map<string, DatabaseName>();
  for (const service of namedDatabases(urls)) {
    const url = urls[service] ?? '';
    const identity = databaseIdentity(url);
    const other = owners.get(identity);
    if (other) {
      throw new Error(
        `${service} and ${other} point at the same database (${redactUrl(url)}); ` +
          'each service, and the read model, needs its own database',
      );
    }
    owners.set(identity, service);
  }
}

/**
 * The migrations listed by `migrate deploy` under "The following migration(s)
 * have been applied:", as a tree of `└─ <name>/` lines; none when it says
 * "No pending migrations to apply."
 */
function appliedMigrations(output: string): string[] {
  if (/No pending migrations to apply/.test(output)) return [];
  return [...output.matchAll(/[└├]─ (\d{14}_[^/\s]+)\//g)].map((match) => match[1] ?? '');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
