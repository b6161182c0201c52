/** The shipping service's database client (SQLite or PostgreSQL, chosen by URL). */
import { PrismaClient as ShippingPostgresClient } from '../../generated/shipping-postgres/client';
import { PrismaClient as ShippingSqliteClient } from '../../generated/shipping-sqlite/client';
import { serviceDbFactory, type ServiceDbOptions } from './service-db';

/** The shipping service's client type, whichever database backs it (see service-db.ts). */
export type ShippingDb = ShippingSqliteClient;

/** Opens the shipping database: file: URL = SQLite, postgresql:// = PostgreSQL. Call $disconnect() when done. */
export const createShippingDb: (url: string, options?: ServiceDbOptions) => ShippingDb = serviceDbFactory<
  ShippingDb,
  typeof ShippingPostgresClient
>(ShippingSqliteClient, ShippingPostgresClient);
