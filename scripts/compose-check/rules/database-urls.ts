import path from 'node:path';
import { databaseNames, type DatabaseName } from '../../../src/db/layout';
import {
  assertSupportedPostgresUrl,
  databaseIdentity,
  databaseProvider,
  databaseUrlVariable,
} from '../../../src/db/url';
import { composeFileName, type Json } from '../compose-file';
import type { CheckContext } from '../context';
import { bindMounts, environmentOf, imageOf, projectServices, services } from '../services';

/**
 * Database URLs (every database of src/db/layout.ts: the services' and the
 * read model's): accepted by the app (provider from the scheme, no ?schema=),
 * PostgreSQL in compose (a file: database would live and die with its
 * container), pointing at a postgres service of this file, at a database and
 * a login role (with that password) its init script creates, that role owning
 * the database (the script revokes everyone else's access); one database per
 * service and for the read model, and the same URL wherever a database is
 * named.
 */
export function checkDatabaseUrls(context: CheckContext): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  const urlsByDatabase = new Map<DatabaseName, Map<string, string[]>>();
  /** Which database each PostgreSQL target is used as, across every service here. */
  const ownersByIdentity = new Map<string, DatabaseName>();
  for (const [name, service] of projectServices(context)) {
    const environment = environmentOf(service);
    const identities = new Map<string, DatabaseName>();
    for (const owner of databaseNames) {
      const variable = databaseUrlVariable(owner);
      const url = environment[variable];
      if (url === undefined) continue;
      const where = `${name}: ${variable}`;
      const users = urlsByDatabase.get(owner) ?? new Map<string, string[]>();
      users.set(url, [...(users.get(url) ?? []), name]);
      urlsByDatabase.set(owner, users);
      let provider;
      try {
        provider = databaseProvider(url);
        if (provider === 'postgres') assertSupportedPostgresUrl(url);
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
        continue;
      }
      if (provider === 'sqlite') {
        problems.push(
          `${where}: a file: (SQLite) database would be lost with its container; use the PostgreSQL service`,
        );
        continue;
      }
      const identity = databaseIdentity(url);
      const other = identities.get(identity);
      if (other) {
        problems.push(
          `${where}: the same database as ${databaseUrlVariable(other)}; each service, and the read model, needs its own`,
        );
      }
      identities.set(identity, owner);
      // Across services too: one process with either URL does not see the clash.
      const elsewhere = ownersByIdentity.get(identity);
      if (elsewhere && elsewhere !== owner && !other) {
        problems.push(
          `${where}: the database another service here uses as ${databaseUrlVariable(elsewhere)}; ` +
            'each service, and the read model, needs its own',
        );
      }
      if (!elsewhere) ownersByIdentity.set(identity, owner);
      problems.push(...checkPostgresTarget(context, all, where, new URL(url)));
    }
  }
  for (const [owner, users] of urlsByDatabase) {
    if (users.size > 1) {
      const list = [...users.values()].map((names) => names.join(', ')).join(' vs ');
      problems.push(
        `${databaseUrlVariable(owner)} differs between services (${list}): they must name the same database`,
      );
    }
  }
  return problems;
}

function checkPostgresTarget(context: CheckContext, all: Map<string, Json>, where: string, url: URL): string[] {
  const host = url.hostname;
  const target = all.get(host);
  if (!target) return [`${where}: host "${host}" is not a service of ${composeFileName}`];
  if (!isPostgresImage(target)) return [`${where}: service "${host}" is not a postgres image (${imageOf(target)})`];
  const problems: string[] = [];
  if ((url.port || '5432') !== '5432') problems.push(`${where}: port ${url.port}, but ${host} listens on 5432`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const user = decodeURIComponent(url.username);
  const init = postgresInit(context, target);
  const scripts = init.sources.length > 0 ? init.sources.join(', ') : `${host}'s environment (no init script)`;
  if (!database) problems.push(`${where}: names no database`);
  else if (!init.databases.has(database)) {
    problems.push(`${where}: database "${database}" is not created by ${scripts}`);
  }
  if (!user) problems.push(`${where}: names no user`);
  else if (!init.roles.has(user)) problems.push(`${where}: role "${user}" is not created (with LOGIN) by ${scripts}`);
  else if (init.roles.get(user) !== undefined && init.roles.get(user) !== decodeURIComponent(url.password)) {
    problems.push(`${where}: the password of "${user}" differs from the one ${scripts} sets`);
  }
  const owner = init.owners.get(database);
  if (user && owner !== undefined && user !== owner && user !== init.superuser) {
    problems.push(
      `${where}: role "${user}" does not own database "${database}" (${owner} does): ` +
        'it could not create the tables, nor connect where the init script revokes PUBLIC',
    );
  }
  return problems;
}

/** The official postgres image, any tag. */
export function isPostgresImage(service: Json): boolean {
  return /^(?:docker\.io\/)?(?:library\/)?postgres(?::|@|$)/.test(imageOf(service));
}

/** The databases and login roles a postgres service of the file has once initialised. */
export interface PostgresInit {
  databases: Set<string>;
  /** Owners of the databases created with OWNER. */
  owners: Map<string, string>;
  superuser: string;
  /** Login roles and their passwords (undefined: none set). */
  roles: Map<string, string | undefined>;
  sources: string[];
}

/** Databases and roles a postgres service has after its first start: the image's own, then its init scripts'. */
export function postgresInit(context: CheckContext, service: Json): PostgresInit {
  const environment = environmentOf(service);
  const superuser = environment.POSTGRES_USER ?? 'postgres';
  const init: PostgresInit = {
    databases: new Set([environment.POSTGRES_DB ?? superuser]),
    owners: new Map(),
    superuser,
    roles: new Map([[superuser, environment.POSTGRES_PASSWORD]]),
    sources: [],
  };
  for (const mount of bindMounts(service)) {
    if (!mount.target.startsWith('/docker-entrypoint-initdb.d')) continue;
    const entries = context.files.list(mount.source);
    const sqlFiles = entries
      ? entries.filter((entry) => entry.endsWith('.sql')).map((entry) => path.posix.join(mount.source, entry))
      : mount.source.endsWith('.sql')
        ? [mount.source]
        : [];
    for (const file of sqlFiles) {
      const sql = context.files.read(file);
      if (sql === undefined) continue;
      init.sources.push(file);
      const statements = sql.replace(/--[^\n]*/g, '');
      for (const match of statements.matchAll(/\bCREATE\s+DATABASE\s+("?)([A-Za-z0-9_]+)\1([^;]*)/gi)) {
        const database = identifier(match[2] ?? '', match[1] === '"');
        init.databases.add(database);
        const owner = /\bOWNER\s*=?\s*("?)([A-Za-z0-9_]+)\1/i.exec(match[3] ?? '');
        if (owner) init.owners.set(database, identifier(owner[2] ?? '', owner[1] === '"'));
      }
      for (const match of statements.matchAll(/\bCREATE\s+(ROLE|USER)\s+("?)([A-Za-z0-9_]+)\2([^;]*)/gi)) {
        const options = match[4] ?? '';
        if ((match[1] ?? '').toUpperCase() === 'ROLE' && !/\bLOGIN\b/i.test(options)) continue;
        init.roles.set(identifier(match[3] ?? '', match[2] === '"'), /\bPASSWORD\s+'([^']*)'/i.exec(options)?.[1]);
      }
    }
  }
  return init;
}

/** PostgreSQL folds unquoted identifiers to lower case. */
function identifier(name: string, quoted: boolean): string {
  return quoted ? name : name.toLowerCase();
}
