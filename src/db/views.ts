/** The read model's database client (SQLite or PostgreSQL, chosen by URL); written only by src/read-model. */
import { PrismaClient as ViewsPostgresClient } from '../../generated/views-postgres/client';
import { PrismaClient as ViewsSqliteClient } from '../../generated/views-sqlite/client';
import { serviceDbFactory, type ServiceDbOptions } from './service-db';

/** The read model's client type, whichever database backs it (see service-db.ts). */
export type ViewsDb = ViewsSqliteClient;

/** Opens the read model's database: file: URL = SQLite, postgresql:// = PostgreSQL. Call $disconnect() when done. */
export const createViewsDb: (url: string, options?: ServiceDbOptions) => ViewsDb = serviceDbFactory<
  ViewsDb,
  typeof ViewsPostgresClient
>(ViewsSqliteClient, ViewsPostgresClient);
