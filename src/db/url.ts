/**
 * Database URLs: the scheme picks the provider (`file:` = SQLite,
 * `postgresql://` or `postgres://` = PostgreSQL).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, type DatabaseName, type DatabaseProvider } from './layout';

export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

export function databaseProvider(url: string): DatabaseProvider {
  const trimmed = url.trim();
  if (trimmed.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(trimmed)) return 'postgres';
  throw new DatabaseUrlError(
    `Unsupported database URL ${JSON.stringify(redactUrl(trimmed))}: ` +
      'use file:<path> (SQLite) or postgresql://user:password@host:port/database (PostgreSQL)',
  );
}

/**
 * The absolute path of a `file:` URL's database. A relative path is resolved
 * against the project root (not the working directory), so the CLI, the tests
 * and the workers open the same file wherever they are started from.
 * `file:/abs.db`, `file:///abs.db` and `file:rel.db` are accepted; query
 * parameters are not (libsql rejects them for local files anyway).
 */
export function sqliteFilePath(url: string): string {
  const trimmed = url.trim();
  if (!trimmed.startsWith('file:')) throw new DatabaseUrlError(`Not a SQLite file: URL: ${trimmed}`);
  let rest = trimmed.slice('file:'.length);
  if (rest.includes('?')) {
    throw new DatabaseUrlError(`SQLite URLs take no query parameters here: ${trimmed}`);
  }
  if (rest.startsWith('//')) {
    // file://<host>/path: only an empty host or localhost is meaningful.
    const slash = rest.indexOf('/', 2);
    const host = rest.slice(2, slash === -1 ? undefined : slash);
    if (host !== '' && host !== 'localhost') {
      throw new DatabaseUrlError(`A file: URL with a host is not a local SQLite file: ${trimmed}`);
    }
    rest = slash === -1 ? '' : rest.slice(slash);
  }
  try {
    rest = decodeURIComponent(rest);
  } catch {
    // Not percent-encoded (e.g. a literal % in the name): use it as written.
  }
  if (rest === '' || rest === ':memory:') {
    throw new DatabaseUrlError(`A SQLite database URL needs a file path: ${trimmed}`);
  }
  return path.resolve(projectRoot, rest);
}

/** The canonical `file:/absolute/path.db` form that libsql opens. */
export function normalizeSqliteUrl(url: string): string {
  return `file:${sqliteFilePath(url)}`;
}

/** Creates the folder of a SQLite database file (libsql creates the file, not its folder). */
export function ensureSqliteDir(url: string): void {
  mkdirSync(path.dirname(sqliteFilePath(url)), { recursive: true });
}

/** The default URL of a database: file:<project>/data/<database>.db. */
export function defaultDatabaseUrl(database: DatabaseName): string {
  return `file:${path.join(projectRoot, 'data', `${database}.db`)}`;
}

/** The environment variable holding a database's URL, e.g. ORDERS_DATABASE_URL, VIEWS_DATABASE_URL. */
export function databaseUrlVariable(database: DatabaseName): string {
  return `${database.toUpperCase()}_DATABASE_URL`;
}

export function databaseUrlFromEnv(database: DatabaseName, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[databaseUrlVariable(database)]?.trim();
  return value ? value : defaultDatabaseUrl(database);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/**
 * A key identifying the database a URL points at, to refuse two databases of
 * this project sharing one (each one's migrations own it: the services all have
 * an IdempotencyRecord table, and every one has a _prisma_migrations history).
 */
export function databaseIdentity(url: string): string {
  if (databaseProvider(url) === 'sqlite') return `sqlite:${sqliteFilePath(url)}`;
  const parsed = new URL(url.trim());
  const port = parsed.port || '5432';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username);
  return `postgres:${parsed.hostname.toLowerCase()}:${port}/${database}`;
}

/**
 * Rejects PostgreSQL URL options this project does not honour, rather than
 * silently ignoring them: `?schema=` is a Prisma convention that neither pg nor
 * the driver adapters read from the URL (tables would land in `public`).
 */
export function assertSupportedPostgresUrl(url: string): void {
  const parsed = new URL(url.trim());
  if (parsed.searchParams.has('schema')) {
    throw new DatabaseUrlError(
      `?schema= is not supported in ${redactUrl(url)}: give each service (and the read model) its own database instead`,
    );
  }
}
