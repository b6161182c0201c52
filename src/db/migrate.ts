/**
 * Applies a service's committed migrations to its database with
 * `prisma migrate deploy` (the same command production uses), choosing the
 * SQLite or PostgreSQL migrations from the URL's scheme.
 */
import { writeComposedSchema, serviceNames, type DatabaseProvider, type ServiceName } from './layout';
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
  service: ServiceName;
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
 * Brings one service's database up to date. Resolves once `prisma migrate
 * deploy` has exited successfully; rejects with a PrismaCliError whose message
 * includes Prisma's output otherwise. A SQLite database's folder is created.
 */
export async function applyMigrations(
  service: ServiceName,
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

/**
 * Migrates every service, in parallel (they are different databases). Refuses
 * URLs where two services share a database: each service's migrations own
 * theirs (all four have an IdempotencyRecord table and a _prisma_migrations
 * history). If any service fails, the others still finish and the error
 * lists every failure.
 */
export async function applyAllMigrations(
  urls: Record<ServiceName, string>,
  options: ApplyMigrationsOptions = {},
): Promise<MigrationOutcome[]> {
  assertDistinctDatabases(urls);
  const results = await Promise.allSettled(
    serviceNames.map((service) => applyMigrations(service, urls[service], options)),
  );
  const failures = results.flatMap((result, index) =>
    result.status === 'rejected' ? [`${serviceNames[index]}: ${errorMessage(result.reason)}`] : [],
  );
  if (failures.length > 0) {
    throw new Error(`Migrations failed for ${failures.length} service(s):\n${failures.join('\n')}`);
  }
  return results.map((result) => (result as PromiseFulfilledResult<MigrationOutcome>).value);
}

export function assertDistinctDatabases(urls: Record<ServiceName, string>): void {
  const owners = new Map<string, ServiceName>();
  for (const service of serviceNames) {
    const identity = databaseIdentity(urls[service]);
    const other = owners.get(identity);
    if (other) {
      throw new Error(
        `${service} and ${other} point at the same database (${redactUrl(urls[service])}); ` +
          'each service needs its own database',
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
