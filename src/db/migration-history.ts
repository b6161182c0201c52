/**
 * A database's migration history as Prisma reads it: its own migrations
 * (prisma/<database>/<provider>/migrations) and those of the fragments it
 * includes (prisma/shared/<fragment>/<provider>/migrations), in one folder.
 *
 * Prisma reads a single migrations folder, so the history is copied into a
 * fresh temporary one for each command. A fragment's migration keeps the name
 * and the bytes it had when every service carried its own copy, so a database
 * migrated back then finds it applied, with the same checksum. Copies rather
 * than symlinks, which git on Windows checks out as text files by default; a
 * folder per command, because workers migrate at once when they start and a
 * container's unprivileged user may write only to the temporary directory.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  fragmentMigrationsDir,
  fragmentsOf,
  migrationsDir,
  projectRoot,
  type DatabaseName,
  type DatabaseProvider,
} from './layout';

/** One migration of a history: its folder name (Prisma's migration name) and where it is committed. */
export interface MigrationSource {
  name: string;
  dir: string;
}

/** The migration folders in `dir`, by name (the order Prisma applies them in); none if it does not exist. */
export function migrationFolderNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** The database's whole history, oldest first. Throws if one name is committed in two places. */
export function migrationSources(database: DatabaseName, provider: DatabaseProvider): MigrationSource[] {
  const folders = [
    migrationsDir(database, provider),
    ...fragmentsOf(database).map((fragment) => fragmentMigrationsDir(fragment, provider)),
  ];
  const sources = new Map<string, MigrationSource>();
  for (const folder of folders) {
    for (const name of migrationFolderNames(folder)) {
      const other = sources.get(name);
      if (other) {
        throw new Error(
          `${database}/${provider}: migration ${name} is in both ${path.relative(projectRoot, path.dirname(other.dir))} ` +
            `and ${path.relative(projectRoot, folder)}`,
        );
      }
      sources.set(name, { name, dir: path.join(folder, name) });
    }
  }
  return [...sources.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A history copied into a temporary folder, for Prisma's migrations path. */
export interface AssembledHistory {
  dir: string;
  /** Deletes the folder (idempotent). */
  remove: () => void;
}

/** Copies the database's history, with its migration_lock.toml, into a new temporary folder. */
export function assembleMigrationHistory(database: DatabaseName, provider: DatabaseProvider): AssembledHistory {
  const sources = migrationSources(database, provider);
  const dir = mkdtempSync(path.join(os.tmpdir(), `prisma-migrations-${database}-${provider}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    for (const source of sources) cpSync(source.dir, path.join(dir, source.name), { recursive: true });
    // migrate diff --from-migrations reads the provider from it.
    const lockFile = path.join(migrationsDir(database, provider), 'migration_lock.toml');
    if (existsSync(lockFile)) cpSync(lockFile, path.join(dir, 'migration_lock.toml'));
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, remove };
}

/** Runs `use` with the database's assembled history and deletes it afterwards. */
export async function withMigrationHistory<T>(
  database: DatabaseName,
  provider: DatabaseProvider,
  use: (dir: string) => Promise<T>,
): Promise<T> {
  const history = assembleMigrationHistory(database, provider);
  try {
    return await use(history.dir);
  } finally {
    history.remove();
  }
}
