/**
 * Which databases there are, where each one's Prisma files live, and how a
 * provider-specific schema is composed from its models.
 *
 * The databases: one per saga service (orders, inventory, payments,
 * shipping), and the read model's (`views`, src/read-model), which only a
 * projection of the services' events writes. Everything here is keyed by
 * DatabaseName, of which ServiceName is the part that runs saga activities.
 *
 * A Prisma schema's `provider` is static, so every database has one schema per
 * provider (SQLite for development and tests, PostgreSQL for production), each
 * with its own migrations and generated client. The models are written once, in
 * `prisma/<database>/models.prisma`; `prisma/<database>/<provider>/schema.prisma`
 * is that file plus a header and the shared fragments the database includes, and
 * is generated (gitignored), never edited.
 *
 * A fragment (`prisma/shared/<fragment>/`) holds models several databases carry
 * alike, with the migrations that create them: each including database's
 * migration history is its own migrations and its fragments' together
 * (src/db/migration-history.ts).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project-root';
import { serviceNames, type ServiceName } from '../temporal/names';

export { serviceNames, type ServiceName };

/** The read model's database (src/read-model): not a saga service, so it has no task queue. */
export const readModelDatabase = 'views';

/** Every database the project owns: the four services' and the read model's. */
export const databaseNames = [...serviceNames, readModelDatabase] as const;
export type DatabaseName = (typeof databaseNames)[number];

export function isDatabaseName(name: string): name is DatabaseName {
  return (databaseNames as readonly string[]).includes(name);
}

export const providers = ['sqlite', 'postgres'] as const;
export type DatabaseProvider = (typeof providers)[number];

export { projectRoot };

/** Models that several databases carry alike, each written once (prisma/shared/<fragment>/). */
export const fragmentNames = ['outbox'] as const;
export type FragmentName = (typeof fragmentNames)[number];

/**
 * Which fragments each database includes: every saga service keeps
 * idempotency records and a transactional outbox (src/activities,
 * src/events/outbox.ts); the read model only consumes the events.
 */
const includedFragments: Record<DatabaseName, readonly FragmentName[]> = {
  orders: ['outbox'],
  inventory: ['outbox'],
  payments: ['outbox'],
  shipping: ['outbox'],
  views: [],
};

/** The fragments `database`'s schema and migration history include. */
export function fragmentsOf(database: DatabaseName): readonly FragmentName[] {
  return includedFragments[database];
}

/** The databases whose schemas include `fragment`. */
export function databasesIncluding(fragment: FragmentName): DatabaseName[] {
  return databaseNames.filter((database) => includedFragments[database].includes(fragment));
}

export function fragmentModelsPath(fragment: FragmentName): string {
  return path.join(projectRoot, 'prisma', 'shared', fragment, 'models.prisma');
}

/** A fragment's migrations for one provider, part of every including database's history. */
export function fragmentMigrationsDir(fragment: FragmentName, provider: DatabaseProvider): string {
  return path.join(projectRoot, 'prisma', 'shared', fragment, provider, 'migrations');
}

export function modelsPath(database: DatabaseName): string {
  return path.join(projectRoot, 'prisma', database, 'models.prisma');
}

export function providerDir(database: DatabaseName, provider: DatabaseProvider): string {
  return path.join(projectRoot, 'prisma', database, provider);
}

export function schemaPath(database: DatabaseName, provider: DatabaseProvider): string {
  return path.join(providerDir(database, provider), 'schema.prisma');
}

/** The database's own migrations (without its fragments'; Prisma reads both through migration-history.ts). */
export function migrationsDir(database: DatabaseName, provider: DatabaseProvider): string {
  return path.join(providerDir(database, provider), 'migrations');
}

/** The generated client's folder, e.g. generated/orders-sqlite (gitignored). */
export function generatedClientDir(database: DatabaseName, provider: DatabaseProvider): string {
  return path.join(projectRoot, 'generated', `${database}-${provider}`);
}

const datasourceProvider: Record<DatabaseProvider, string> = {
  sqlite: 'sqlite',
  postgres: 'postgresql',
};

/**
 * The composed schema's text: a header, the database's models, then those of
 * the fragments it includes. Prisma 6.19 requires a datasource `url`, but
 * with the JS engine the connection really comes from the driver adapter
 * (prisma.config.ts at migrate time, src/db at run time); PRISMA_DATABASE_URL
 * is the variable scripts/prisma.ts sets for the adapter anyway.
 *
 * Generator settings: `engineType = "client"` (no native query engine to
 * download), ESM output for `"type": "module"`, and extensionless imports in
 * the generated .ts files, which both tsx and tsc (moduleResolution Bundler)
 * resolve, as in the rest of the project.
 */
export function composeSchema(database: DatabaseName, provider: DatabaseProvider): string {
  const models = readFileSync(modelsPath(database), 'utf8');
  const output = path
    .relative(providerDir(database, provider), generatedClientDir(database, provider))
    .split(path.sep)
    .join('/');
  const sources = [`prisma/${database}/models.prisma`, ...fragmentsOf(database).map(relativeFragmentModels)];
  const header = `// GENERATED by scripts/prisma.ts from ${sources.join(', ')} — do not edit.
// Edit those, then run: npx tsx scripts/prisma.ts generate

datasource db {
  provider = "${datasourceProvider[provider]}"
  url      = env("PRISMA_DATABASE_URL")
}

generator client {
  provider               = "prisma-client"
  output                 = "${output}"
  engineType             = "client"
  runtime                = "nodejs"
  moduleFormat           = "esm"
  generatedFileExtension = "ts"
  importFileExtension    = ""
}

// ---- prisma/${database}/models.prisma ----
`;
  const fragments = fragmentsOf(database).map(
    (fragment) =>
      `\n// ---- ${relativeFragmentModels(fragment)} ----\n${readFileSync(fragmentModelsPath(fragment), 'utf8')}`,
  );
  return header + models + fragments.join('');
}

function relativeFragmentModels(fragment: FragmentName): string {
  return `prisma/shared/${fragment}/models.prisma`;
}

/** Writes the composed schema if its content changed; returns whether it did. */
export function writeComposedSchema(database: DatabaseName, provider: DatabaseProvider): boolean {
  const file = schemaPath(database, provider);
  const wanted = composeSchema(database, provider);
  let current: string | null = null;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = null;
  }
  if (current === wanted) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  // Atomically (write, then rename): several processes may compose at once
  // (workers migrating at start) while a Prisma CLI reads the file.
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, wanted);
  renameSync(temporary, file);
  return true;
}

export function writeAllComposedSchemas(): string[] {
  const written: string[] = [];
  for (const database of databaseNames) {
    for (const provider of providers) {
      if (writeComposedSchema(database, provider)) written.push(`${database}/${provider}`);
    }
  }
  return written;
}
