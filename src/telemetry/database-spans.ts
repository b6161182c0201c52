import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM,
  DB_SYSTEM_VALUE_POSTGRESQL,
  DB_SYSTEM_VALUE_SQLITE,
} from '@opentelemetry/semantic-conventions/incubating';
/**
 * The databases the project runs on, as the db layer names them (its DatabaseProvider, which must stay assignable
 * to this): spelled here so that tracing, which the db layer uses, does not depend on the db layer.
 */
export type TracedDatabase = 'sqlite' | 'postgres';

const dbSystems: Record<TracedDatabase, string> = {
  sqlite: DB_SYSTEM_VALUE_SQLITE,
  postgres: DB_SYSTEM_VALUE_POSTGRESQL,
};

/** What a Prisma query extension is given (the part used here). */
interface QueryParameters {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => Promise<unknown>;
}

interface Extendable {
  $extends(extension: {
    name: string;
    query: { $allOperations(parameters: QueryParameters): Promise<unknown> };
  }): unknown;
}

/**
 * The client, extended with a span per Prisma query, `prisma <model>.<operation>` (`prisma $queryRaw` for raw SQL),
 * as a child of the span in progress: the activity's, the request's.
 *
 * A client extension rather than @prisma/instrumentation: this project's clients run Prisma's JS query engine with
 * driver adapters, and the extension traces the same way on SQLite and PostgreSQL, with the tracer of the service
 * that owns the database (several services share a process in the tests). A query with no span in progress (the
 * outbox relay's polls, a readiness ping) makes none: a root span per poll would bury the orders' traces.
 *
 * The extended client shares the original's connections; close either.
 */
export function withQuerySpans<Db extends object>(db: Db, tracer: Tracer, provider: TracedDatabase): Db {
  const system = dbSystems[provider];
  const extended = (db as unknown as Extendable).$extends({
    name: 'query-spans',
    query: {
      $allOperations({ model, operation, args, query }) {
        if (trace.getSpan(context.active()) === undefined) return query(args);
        const attributes = {
          [ATTR_DB_SYSTEM]: system,
          [ATTR_DB_OPERATION_NAME]: operation,
          ...(model === undefined ? {} : { [ATTR_DB_COLLECTION_NAME]: model }),
        };
        const name = model === undefined ? `prisma ${operation}` : `prisma ${model}.${operation}`;
        return inClientSpan(tracer, name, attributes, () => query(args));
      },
    },
  });
  // The one cast: a query extension changes no model, argument or result type, only wraps the calls.
  return extended as Db;
}

/** What withSelectSpans wraps: the db layer's SqlReader, by its shape (tracing does not depend on the db layer). */
export interface TracedReader<Values> {
  readonly provider: TracedDatabase;
  select(name: string, sql: string, values: Values): Promise<unknown[][]>;
  close(): Promise<void>;
}

/** The reader, with a span per SELECT (`sql <name>`) under the span in progress, as withQuerySpans does for Prisma. */
export function withSelectSpans<Values>(reader: TracedReader<Values>, tracer: Tracer): TracedReader<Values> {
  const system = dbSystems[reader.provider];
  return {
    provider: reader.provider,
    close: () => reader.close(),
    select(name, sql, values) {
      if (trace.getSpan(context.active()) === undefined) return reader.select(name, sql, values);
      const attributes = { [ATTR_DB_SYSTEM]: system, [ATTR_DB_OPERATION_NAME]: 'select' };
      return inClientSpan(tracer, `sql ${name}`, attributes, () => reader.select(name, sql, values));
    },
  };
}

/** Runs a database call in a client span that records its failure. */
function inClientSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Record<string, string>,
  call: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await call();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
      if (error instanceof Error) span.recordException(error);
      throw error;
    } finally {
      span.end();
    }
  });
}
