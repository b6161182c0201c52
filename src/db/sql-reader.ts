/**
 * Prepared SELECTs straight through the driver under a client's adapter, for
 * the read path where Prisma's own cost is most of the answer: a first page of
 * the order list took about 1.4 ms through `findMany` (query compilation, the
 * JS engine, the adapter's row conversion), 0.75 ms through `$queryRaw`,
 * 0.5 ms through @libsql/client's `execute` (which prepares each statement
 * again), and 0.1 ms (SQLite, libsql) or 0.25 ms (PostgreSQL, pg) as a
 * prepared statement with rows as arrays (bench/read-path.ts, 10,000 orders).
 *
 * Reads only: every write stays in Prisma, in its transactions. The SQLite
 * reader has its own connection (WAL: it neither waits for the writer nor
 * blocks it); the PostgreSQL one borrows from the Prisma adapter's pool.
 */
import Database from 'libsql';
import pg from 'pg';
import type { DatabaseProvider } from './layout';

/** A bound value: text, a number, or a time (bound in the form the Prisma adapter stores). */
export type SqlValue = string | number | Date;

/** Prepared, read-only SQL on one database. */
export interface SqlReader {
  readonly provider: DatabaseProvider;
  /**
   * Runs a SELECT written with `?` placeholders; rows as arrays in select-list
   * order. `name` identifies the statement (its PostgreSQL prepared-statement
   * name, its span): one name, one SQL text. Times come back as ISO 8601
   * strings (UTC), booleans as booleans, whatever the provider.
   */
  select(name: string, sql: string, values: readonly SqlValue[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

/**
 * SQLite through libsql (the engine under @libsql/client and the Prisma
 * adapter), with each statement prepared once. Opened on first use, after
 * the migrations have made the file.
 */
export function sqliteReader(filePath: string, busyTimeoutMs: number): SqlReader {
  let database: Database.Database | undefined;
  const prepared = new Map<string, PreparedSqlite>();
  const preparedOf = (sql: string) => {
    let entry = prepared.get(sql);
    if (!entry) {
      database ??= new Database(filePath, { timeout: busyTimeoutMs });
      const statement = database.prepare(sql).raw(true);
      // SQLite keeps a time as text and a boolean as 0/1: the declared column types say which to convert.
      const declared = statement.columns().map((column) => column.type?.toUpperCase());
      entry = {
        statement,
        times: indicesOf(declared, 'DATETIME'),
        booleans: indicesOf(declared, 'BOOLEAN'),
      };
      prepared.set(sql, entry);
    }
    return entry;
  };
  return {
    provider: 'sqlite',
    select(_name, sql, values) {
      // @prisma/adapter-libsql stores a DateTime as this text, and compares it as text.
      const bound = values.map((value) => (value instanceof Date ? value.toISOString().replace('Z', '+00:00') : value));
      try {
        const { statement, times, booleans } = preparedOf(sql);
        const rows = statement.all(...bound) as unknown[][];
        for (const row of rows) {
          for (const index of times) {
            const value = row[index];
            if (value !== null) row[index] = new Date(value as string | number).toISOString();
          }
          for (const index of booleans) {
            const value = row[index];
            if (value !== null) row[index] = value !== 0;
          }
        }
        return Promise.resolve(rows);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    close() {
      prepared.clear();
      database?.close();
      database = undefined;
      return Promise.resolve();
    },
  };
}

interface PreparedSqlite {
  statement: Database.Statement;
  times: number[];
  booleans: number[];
}

function indicesOf(declared: readonly (string | undefined)[], type: string): number[] {
  return declared.flatMap((declaredType, index) => (declaredType === type ? [index] : []));
}

const timestampOid: number = pg.types.builtins.TIMESTAMP;
const parseUtcTimestamp = (text: string) => new Date(`${text.replace(' ', 'T')}Z`).toISOString();

/**
 * pg's own parser reads `timestamp without time zone` (Prisma's DateTime) in
 * the process's time zone; Prisma stores UTC there. So such times are read as
 * text and turned into ISO 8601 UTC here.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
    if (oid === timestampOid) return parseUtcTimestamp;
    return pg.types.getTypeParser(oid, format) as (text: string) => unknown;
  },
};

/** PostgreSQL through pg: named prepared statements (parsed and planned once per connection of the pool). */
export function postgresReader(pool: pg.Pool): SqlReader {
  const texts = new Map<string, string>();
  const textOf = (sql: string) => {
    let text = texts.get(sql);
    if (text === undefined) {
      let index = 0;
      text = sql.replace(/\?/g, () => `$${(index += 1)}`);
      texts.set(sql, text);
    }
    return text;
  };
  return {
    provider: 'postgres',
    async select(name, sql, values) {
      // Prisma's columns are `timestamp(3)` without time zone, holding UTC: bound without the zone.
      const bound = values.map((value) => (value instanceof Date ? value.toISOString().slice(0, -1) : value));
      const result = await pool.query<unknown[]>({ name, text: textOf(sql), values: bound, rowMode: 'array', types });
      return result.rows;
    },
    // The pool belongs to the Prisma adapter, which ends it on $disconnect.
    close: () => Promise.resolve(),
  };
}
