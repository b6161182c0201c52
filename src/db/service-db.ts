/**
 * One factory per service that opens the SQLite or the PostgreSQL client of
 * that service depending on the URL, and returns it as ONE type: the SQLite
 * client's.
 *
 * Why one type, and why the SQLite one: the two clients are generated from
 * the same models.prisma, so they have the same models, fields and results,
 * but they are distinct classes whose argument types differ only where
 * PostgreSQL accepts more (`mode: 'insensitive'` string filters,
 * `createMany({ skipDuplicates })`, more isolation levels). Typing service
 * code against the SQLite client keeps it to what both databases support.
 */
import type { Tracer } from '@opentelemetry/api';
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';
import { withQuerySpans, withSelectSpans } from '../telemetry/database-spans';
import { postgresAdapterAndReader, sqliteAdapterAndReader, transactionOptions, type SqliteOptions } from './adapters';
import type { SqlReader } from './sql-reader';
import { databaseProvider } from './url';

/** The model delegates of a generated client: every key that is not `$...`. */
export type ModelKeys<Client> = Exclude<keyof Client, `$${string}` | symbol | number>;

type AnyFunction = (...args: never[]) => unknown;
type FirstArgument<F> = F extends (argument: infer A, ...rest: never[]) => unknown ? A : never;
type Resolved<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/**
 * The methods of a SQLite delegate that the PostgreSQL delegate lacks, does
 * not accept the arguments of, or answers with a different type. (The
 * delegates are not assignable as a whole: their methods are generic over
 * conditional types declared twice, once per client, which TypeScript does
 * not relate. Instantiating each method at its argument type's constraint
 * makes them concrete and comparable.)
 */
type DelegateMismatches<SqliteDelegate, PostgresDelegate> = {
  [M in keyof SqliteDelegate & string]: M extends keyof PostgresDelegate
    ? SqliteDelegate[M] extends AnyFunction
      ? [FirstArgument<SqliteDelegate[M]>] extends [FirstArgument<PostgresDelegate[M]>]
        ? [Resolved<PostgresDelegate[M]>] extends [Resolved<SqliteDelegate[M]>]
          ? never
          : `${M}() returns a different type`
        : `${M}() does not accept the SQLite client's arguments`
      : never
    : `${M}() is missing`;
}[keyof SqliteDelegate & string];

/** Every model whose PostgreSQL delegate does not stand in for its SQLite one, as "model.method() ...". */
export type ClientMismatches<SqliteClient, PostgresClient> =
  | {
      [K in ModelKeys<SqliteClient> & string]: K extends keyof PostgresClient
        ? `${K}.${DelegateMismatches<SqliteClient[K], PostgresClient[K]>}`
        : `${K} is missing`;
    }[ModelKeys<SqliteClient> & string]
  | (PostgresClient extends Pick<SqliteClient, Extract<keyof SqliteClient, RawMethods>>
      ? never
      : `$queryRaw/$executeRaw differ`);

type RawMethods = '$queryRaw' | '$executeRaw' | '$queryRawUnsafe' | '$executeRawUnsafe' | '$connect' | '$disconnect';

interface ClientOptions {
  adapter: SqlDriverAdapterFactory;
  transactionOptions?: { maxWait?: number; timeout?: number };
}

export interface ServiceDbOptions {
  sqlite?: SqliteOptions;
  /** A span per query, by this tracer, under the span in progress (src/telemetry/database-spans.ts); none without. */
  tracer?: Tracer;
}

type ClientClass<Client> = new (options: ClientOptions) => Client;

/** Requires nothing more when the clients match; otherwise a property naming the mismatches. */
type StandsIn<Db, PostgresClass extends ClientClass<object>> = [
  ClientMismatches<Db, InstanceType<PostgresClass>>,
] extends [never]
  ? unknown
  : { postgresClientMismatches: ClientMismatches<Db, InstanceType<PostgresClass>> };

/**
 * Builds `create<Service>Db(url)` from a service's two generated client
 * classes. Compile-time check: if the PostgreSQL client cannot stand in for
 * the SQLite one (see ClientMismatches), the call does not compile, with an
 * error such as "Property 'postgresClientMismatches' is missing ... required
 * in type { postgresClientMismatches: "order.create() does not accept the
 * SQLite client's arguments" }".
 */
export function serviceDbFactory<Db extends object, PostgresClass extends ClientClass<object>>(
  SqliteClient: ClientClass<Db>,
  PostgresClient: PostgresClass & StandsIn<Db, PostgresClass>,
): (url: string, options?: ServiceDbOptions) => Db {
  return (url, options = {}) => {
    const { client, reader } = openClient(url, options);
    if (!options.tracer) {
      readers.set(client, reader);
      return client;
    }
    const traced = withQuerySpans(client, options.tracer, databaseProvider(url));
    readers.set(traced, withSelectSpans(reader, options.tracer));
    return traced;
  };

  function openClient(url: string, options: ServiceDbOptions): { client: Db; reader: SqlReader } {
    if (databaseProvider(url) === 'sqlite') {
      const { adapter, reader } = sqliteAdapterAndReader(url, options.sqlite);
      return { client: new SqliteClient({ adapter, transactionOptions: transactionOptions.sqlite }), reader };
    }
    const { adapter, reader } = postgresAdapterAndReader(url);
    const client = new PostgresClient({ adapter, transactionOptions: transactionOptions.postgres });
    // The one cast: a PostgreSQL client typed as the SQLite client. Sound because
    // - the check above proves at compile time that every model method accepts
    //   the SQLite client's arguments and returns the SQLite client's result
    //   types, and that the raw-SQL and connection methods match;
    // - $transaction hands the callback a client with those same delegates, and
    //   the SQLite signature only allows the isolation level both support
    //   (Serializable);
    // - both classes come from the same models.prisma, Prisma version and
    //   generator settings, so at run time they build the same queries and
    //   return the same shapes; only the SQL dialect and adapter differ.
    return { client: client as unknown as Db, reader };
  }
}

const readers = new WeakMap<object, SqlReader>();

/**
 * Prepared SELECTs on the database of a client that create<Service>Db opened (src/db/sql-reader.ts): for hot
 * read paths only; it closes with the client.
 */
export function sqlReaderOf(db: object): SqlReader {
  const reader = readers.get(db);
  if (!reader) throw new Error('sqlReaderOf: this client was not opened by a create<Service>Db factory');
  return reader;
}
