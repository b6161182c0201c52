/** The orders service's database client (SQLite or PostgreSQL, chosen by URL). */
import { PrismaClient as OrdersPostgresClient } from '../../generated/orders-postgres/client';
import { PrismaClient as OrdersSqliteClient } from '../../generated/orders-sqlite/client';
import { serviceDbFactory, type ServiceDbOptions } from './service-db';

/** The orders service's client type, whichever database backs it (see service-db.ts). */
export type OrdersDb = OrdersSqliteClient;

/** Opens the orders database: file: URL = SQLite, postgresql:// = PostgreSQL. Call $disconnect() when done. */
export const createOrdersDb: (url: string, options?: ServiceDbOptions) => OrdersDb = serviceDbFactory<
  OrdersDb,
  typeof OrdersPostgresClient
>(OrdersSqliteClient, OrdersPostgresClient);
