import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { databaseNames, type DatabaseName } from '../../src/db/layout';

export interface ProvisionedDatabases {
  /** One per database: the four services' and the read model's (`views`). */
  urls: Record<DatabaseName, string>;
  /** Deletes them (the SQLite folder, or drops the PostgreSQL databases). */
  drop: () => Promise<void>;
}

/**
 * Fresh, empty databases for one run of tests or of the chaos and benchmark
 * commands: temp SQLite files, or new PostgreSQL databases created through
 * `adminUrl` (a role that may CREATE DATABASE).
 */
export async function provisionDatabases(
  provider: 'sqlite' | 'postgres',
  adminUrl = process.env.TEST_POSTGRES_URL,
): Promise<ProvisionedDatabases> {
  const byDatabase = (urlOf: (database: DatabaseName) => string) =>
    Object.fromEntries(databaseNames.map((database) => [database, urlOf(database)])) as Record<DatabaseName, string>;

  if (provider === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'order-saga-'));
    return {
      urls: byDatabase((database) => `file:${path.join(dir, `${database}.db`)}`),
      drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    };
  }
  if (!adminUrl) throw new Error('PostgreSQL databases need TEST_POSTGRES_URL (a role that may create databases)');
  const suffix = `${process.pid}_${Date.now()}`;
  const names = byDatabase((database) => `saga_${database}_${suffix}`);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const name of Object.values(names)) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    urls: byDatabase((database) => {
      const url = new URL(adminUrl);
      url.pathname = `/${names[database]}`;
      return url.toString();
    }),
    drop: async () => {
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      try {
        for (const name of Object.values(names)) await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
