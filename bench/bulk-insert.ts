/**
 * Bulk inserts for seeding the read model in bench/read-path.ts: multi-row
 * INSERTs, one transaction per batch, straight through the driver (libsql,
 * pg). Prisma's createMany, with the projection's look-up of known events,
 * seeded about 560 orders a second (10,000 in 18 s); 100,000 orders need
 * better. Values are bound as the Prisma adapters store them, so Prisma
 * reads the rows back unchanged (the seeding's refold check proves it).
 */
import Database from 'libsql';
import pg from 'pg';
import { databaseProvider } from '../src/db';
import { sqliteFilePath } from '../src/db/url';

type Row = Record<string, string | number | boolean | Date | null>;

/** Inserts rows into a table; all rows of one call have the same columns. */
export interface BulkWriter {
  /** One transaction for all the tables' rows. */
  insert(batches: readonly { table: string; rows: readonly Row[] }[]): Promise<void>;
  close(): Promise<void>;
}

/** Rows per INSERT statement: within both databases' limits on bound parameters (32,766 and 65,535) at 40 columns. */
const rowsPerStatement = 500;

function insertSql(table: string, columns: readonly string[], rows: number, placeholder: (index: number) => string) {
  let index = 0;
  const tuple = () => `(${columns.map(() => placeholder((index += 1))).join(', ')})`;
  const tuples = Array.from({ length: rows }, tuple);
  return `INSERT INTO "${table}" (${columns.map((column) => `"${column}"`).join(', ')}) VALUES ${tuples.join(', ')}`;
}

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, index) =>
    items.slice(index * size, (index + 1) * size),
  );
}

export function openBulkWriter(url: string): BulkWriter {
  return databaseProvider(url) === 'sqlite' ? sqliteWriter(sqliteFilePath(url)) : postgresWriter(url);
}

function sqliteWriter(filePath: string): BulkWriter {
  const database = new Database(filePath, { timeout: 5_000 });
  const statements = new Map<string, Database.Statement>();
  // As @prisma/adapter-libsql stores them: times as ISO text with +00:00, booleans as 0/1.
  const bound = (value: Row[string]) =>
    value instanceof Date
      ? value.toISOString().replace('Z', '+00:00')
      : typeof value === 'boolean'
        ? Number(value)
        : value;
  const write = database.transaction((batches: readonly { table: string; rows: readonly Row[] }[]) => {
    for (const { table, rows } of batches) {
      const columns = Object.keys(rows[0] ?? {});
      for (const chunk of chunksOf(rows, rowsPerStatement)) {
        const sql = insertSql(table, columns, chunk.length, () => '?');
        let statement = statements.get(sql);
        if (!statement) {
          statement = database.prepare(sql);
          statements.set(sql, statement);
        }
        statement.run(...chunk.flatMap((row) => columns.map((column) => bound(row[column] ?? null))));
      }
    }
  });
  return {
    insert(batches) {
      write.immediate(batches);
      return Promise.resolve();
    },
    close() {
      database.close();
      return Promise.resolve();
    },
  };
}

function postgresWriter(url: string): BulkWriter {
  const client = new pg.Client({ connectionString: url });
  const connected = client.connect();
  // Prisma's DateTime is `timestamp(3)` without time zone, holding UTC.
  const bound = (value: Row[string]) => (value instanceof Date ? value.toISOString().slice(0, -1) : value);
  return {
    async insert(batches) {
      await connected;
      await client.query('BEGIN');
      try {
        for (const { table, rows } of batches) {
          const columns = Object.keys(rows[0] ?? {});
          for (const chunk of chunksOf(rows, rowsPerStatement)) {
            await client.query(
              insertSql(table, columns, chunk.length, (index) => `$${index}`),
              chunk.flatMap((row) => columns.map((column) => bound(row[column] ?? null))),
            );
          }
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
    async close() {
      await connected;
      await client.end();
    },
  };
}
