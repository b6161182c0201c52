/** The inventory service's database client (SQLite or PostgreSQL, chosen by URL). */
import { PrismaClient as InventoryPostgresClient } from '../../generated/inventory-postgres/client';
import { PrismaClient as InventorySqliteClient } from '../../generated/inventory-sqlite/client';
import { serviceDbFactory, type ServiceDbOptions } from './service-db';

/** The inventory service's client type, whichever database backs it (see service-db.ts). */
export type InventoryDb = InventorySqliteClient;

/** Opens the inventory database: file: URL = SQLite, postgresql:// = PostgreSQL. Call $disconnect() when done. */
export const createInventoryDb: (url: string, options?: ServiceDbOptions) => InventoryDb = serviceDbFactory<
  InventoryDb,
  typeof InventoryPostgresClient
>(InventorySqliteClient, InventoryPostgresClient);
