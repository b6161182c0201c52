/**
 * Driver adapters for the generated clients (Prisma 6.19, engineType
 * "client"): libsql for SQLite, pg for PostgreSQL.
 *
 * SQLite and concurrency, as found in @prisma/adapter-libsql 6.19.3 with
 * @libsql/client 0.8.1 (local files):
 *
 * - One PrismaClient = one adapter = one async mutex. A transaction holds the
 *   mutex from BEGIN to COMMIT/ROLLBACK, so within a process the interactive
 *   transactions of one client run one at a time, and plain queries wait for
 *   the open transaction too. Several activities in flight in one worker
 *   therefore queue, they never meet SQLITE_BUSY among themselves. (Corollary:
 *   inside `$transaction(async (tx) => ...)` use only `tx`; a query on the
 *   outer client waits for the mutex the transaction holds until the
 *   transaction times out.)
 * - Queued transactions count against Prisma's `maxWait` (default 2 s): 30
 *   concurrent transactions holding ~100 ms each made 12 fail with P2028
 *   "Unable to start a transaction in the given time". SQLite clients get a
 *   longer default maxWait ({@link sqliteTransactionOptions}).
 * - @libsql/client gives its connection to each transaction and opens a new
 *   one for the next statement; libsql opens connections with busy_timeout 0
 *   (and foreign_keys on). The wrapper below runs transactions on the client's
 *   own connection instead (transactionOn: a connection per transaction cost
 *   an open, a PRAGMA and a garbage-collected handle each), and sets
 *   busy_timeout on every connection it opens (a retired one is replaced). This matters between processes (the API and
 *   a worker on one file): without it a writer that meets another process's
 *   lock fails at once with SQLITE_BUSY (P1008 "Operation has timed out").
 *   libsql runs statements synchronously, so a busy wait blocks that
 *   process's event loop for up to the timeout: keep one client per database
 *   per process (two clients on one file in one process would make each other
 *   wait the full timeout).
 * - The adapter begins transactions DEFERRED. A deferred transaction that
 *   reads, then writes after another connection committed gets SQLITE_BUSY
 *   at once, whatever busy_timeout says (it cannot upgrade its stale
 *   snapshot). The wrapper begins them IMMEDIATE, taking the write lock up
 *   front, where busy_timeout applies. In-process this changes nothing (the
 *   mutex already serialises), across processes it turns failures into waits.
 * - journal_mode=WAL (persistent, set on first use): readers and the writer
 *   of other processes no longer block each other.
 */
import type {
  Client,
  InStatement,
  Config as LibsqlConfig,
  ResultSet,
  Transaction,
  TransactionMode,
} from '@libsql/client';
import { PrismaLibSQL } from '@prisma/adapter-libsql';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { DatabaseProvider } from './layout';
import { postgresReader, sqliteReader, type SqlReader } from './sql-reader';
import { assertSupportedPostgresUrl, normalizeSqliteUrl, sqliteFilePath } from './url';

export interface SqliteOptions {
  /** How long a statement waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Switch the database to WAL (default true). */
  wal?: boolean;
}

export const defaultSqliteBusyTimeoutMs = 5_000;

/**
 * Interactive transaction defaults per provider. SQLite: a transaction may
 * queue behind the others of its process (see above), so it may wait longer
 * to start. PostgreSQL: Prisma's defaults (the pool runs up to 10 at once).
 */
export const transactionOptions: Record<DatabaseProvider, { maxWait: number; timeout: number }> = {
  sqlite: { maxWait: 30_000, timeout: 10_000 },
  postgres: { maxWait: 2_000, timeout: 5_000 },
};

/**
 * A libsql Client that prepares every connection it opens (busy_timeout, and
 * WAL once), begins transactions IMMEDIATE, and never lets a lock outlive a
 * failure. Only the methods the Prisma adapter calls are intercepted; the
 * adapter's mutex guarantees they never overlap, so the state below needs no
 * locking.
 *
 * Why the failure handling (found by `npm run chaos -- --faults database-outage`):
 * a statement that fails with SQLITE_BUSY is left active on its connection
 * (SQLite lets a busy statement be stepped again), and libsql keeps it until
 * garbage collection. The next transaction on that connection then begins
 * fine but its COMMIT fails with "cannot commit transaction - SQL statements
 * in progress", and Prisma does not roll back after a failed commit: the
 * connection stayed inside its transaction, holding the database's write lock
 * until the process exited. So a busy or locked error retires the connection
 * (the client behind it is replaced; no transaction is open on it, a failed
 * BEGIN or autocommit statement holds no lock), and a failed COMMIT is
 * followed by a ROLLBACK, which SQLite allows with statements in progress.
 */
function preparedConnections(open: () => Client, options: Required<SqliteOptions>): Client {
  let current = open();
  let freshConnection = true;
  let walChecked = !options.wal;
  async function prepare(): Promise<void> {
    if (!freshConnection) return;
    freshConnection = false;
    await current.execute(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    if (!walChecked) {
      walChecked = true;
      await current.execute('PRAGMA journal_mode = WAL');
    }
  }
  function retireConnection(retired: Client): void {
    if (retired !== current) return;
    current = open();
    freshConnection = true;
    retired.close();
  }
  function retireConnectionAfter(error: unknown): void {
    if (isLockContention(error)) retireConnection(current);
  }
  async function guarded<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      retireConnectionAfter(error);
      throw error;
    }
  }
  return new Proxy(current, {
    get(_initial, property) {
      switch (property) {
        case 'execute':
        case 'batch':
        case 'executeMultiple':
          return (...args: unknown[]) =>
            guarded(async () => {
              await prepare();
              return (current[property] as (...a: unknown[]) => Promise<unknown>).apply(current, args);
            });
        case 'transaction':
          return (_mode?: TransactionMode): Promise<Transaction> =>
            guarded(async () => {
              await prepare();
              const connection = current;
              await connection.execute('BEGIN IMMEDIATE');
              return transactionOn(connection, retireConnection);
            });
        default: {
          const value: unknown = Reflect.get(current, property, current);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
        }
      }
    },
  });
}

/** SQLITE_BUSY or SQLITE_LOCKED, extended codes included: another connection holds the lock. */
function isLockContention(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * A transaction on the client's own connection. @libsql/client's `transaction()` hands its connection to the
 * transaction and opens a new one for whatever comes next, so every transaction paid for opening a database
 * connection, preparing it (busy_timeout) and, later, garbage-collecting the old one; the adapter's mutex already
 * keeps anything else off the client until the transaction ends, so the connection can simply stay. A failed COMMIT
 * is followed by a ROLLBACK (SQLite allows it with statements in progress; Prisma does not roll back after a failed
 * commit) and the connection is retired, since a statement may still be active on it.
 */
function transactionOn(connection: Client, retire: (connection: Client) => void): Transaction {
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new Error('The transaction is closed');
  };
  const transaction: Pick<Transaction, 'execute' | 'batch' | 'executeMultiple' | 'commit' | 'rollback' | 'close'> & {
    readonly closed: boolean;
  } = {
    execute: (statement: InStatement) => {
      ensureOpen();
      return connection.execute(statement);
    },
    batch: async (statements: InStatement[]) => {
      const results: ResultSet[] = [];
      for (const statement of statements) {
        ensureOpen();
        results.push(await connection.execute(statement));
      }
      return results;
    },
    executeMultiple: (sql: string) => {
      ensureOpen();
      return connection.executeMultiple(sql);
    },
    commit: async () => {
      ensureOpen();
      try {
        await connection.execute('COMMIT');
        closed = true;
      } catch (commitError) {
        closed = true;
        try {
          await connection.execute('ROLLBACK');
        } catch (rollbackError) {
          if (!/no transaction is active/i.test(String(rollbackError))) {
            retire(connection);
            throw new AggregateError(
              [commitError, rollbackError],
              'SQLite could neither commit nor roll back a transaction; its connection was closed',
            );
          }
        }
        retire(connection);
        throw commitError;
      }
    },
    rollback: async () => {
      if (closed) return;
      closed = true;
      await connection.execute('ROLLBACK');
    },
    close: () => {
      if (closed) return;
      closed = true;
      connection.execute('ROLLBACK').catch(() => retire(connection));
    },
    get closed() {
      return closed;
    },
  };
  return transaction;
}

class PreparedPrismaLibSQL extends PrismaLibSQL {
  constructor(
    config: LibsqlConfig,
    private readonly sqliteOptions: Required<SqliteOptions>,
    private readonly onDispose?: () => Promise<void>,
  ) {
    super(config);
  }

  override createClient(config: LibsqlConfig): Client {
    return preparedConnections(() => super.createClient(config), this.sqliteOptions);
  }

  override async connect(): ReturnType<PrismaLibSQL['connect']> {
    const adapter = await super.connect();
    const onDispose = this.onDispose;
    if (onDispose) {
      // The client's $disconnect disposes the adapter: whatever shares its database closes with it.
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await onDispose();
        await dispose();
      };
    }
    return adapter;
  }
}

function sqliteSettings(options: SqliteOptions): Required<SqliteOptions> {
  return { busyTimeoutMs: options.busyTimeoutMs ?? defaultSqliteBusyTimeoutMs, wal: options.wal ?? true };
}

/** The SQLite adapter for a `file:` URL (relative paths resolve against the project root). */
export function sqliteAdapter(url: string, options: SqliteOptions = {}): PrismaLibSQL {
  return new PreparedPrismaLibSQL({ url: normalizeSqliteUrl(url) }, sqliteSettings(options));
}

/** A client's adapter and a reader of the same database (src/db/sql-reader.ts) that closes with it. */
export interface AdapterAndReader<Adapter> {
  adapter: Adapter;
  reader: SqlReader;
}

/** sqliteAdapter, with a reader of the same file. */
export function sqliteAdapterAndReader(url: string, options: SqliteOptions = {}): AdapterAndReader<PrismaLibSQL> {
  const settings = sqliteSettings(options);
  const reader = sqliteReader(sqliteFilePath(url), settings.busyTimeoutMs);
  return {
    adapter: new PreparedPrismaLibSQL({ url: normalizeSqliteUrl(url) }, settings, () => reader.close()),
    reader,
  };
}

/**
 * The PostgreSQL adapter (@prisma/adapter-pg 6.19, matching @prisma/client) over a pool it owns (ended on
 * $disconnect), and a reader that borrows from that pool.
 */
export function postgresAdapterAndReader(url: string): AdapterAndReader<PrismaPg> {
  assertSupportedPostgresUrl(url);
  const pool = new pg.Pool({ connectionString: url.trim() });
  return { adapter: new PrismaPg(pool, { disposeExternalPool: true }), reader: postgresReader(pool) };
}
