/** The payments service's database client (SQLite or PostgreSQL, chosen by URL). */
import { PrismaClient as PaymentsPostgresClient } from '../../generated/payments-postgres/client';
import { PrismaClient as PaymentsSqliteClient } from '../../generated/payments-sqlite/client';
import { serviceDbFactory, type ServiceDbOptions } from './service-db';

/** The payments service's client type, whichever database backs it (see service-db.ts). */
export type PaymentsDb = PaymentsSqliteClient;

/** Opens the payments database: file: URL = SQLite, postgresql:// = PostgreSQL. Call $disconnect() when done. */
export const createPaymentsDb: (url: string, options?: ServiceDbOptions) => PaymentsDb = serviceDbFactory<
  PaymentsDb,
  typeof PaymentsPostgresClient
>(PaymentsSqliteClient, PaymentsPostgresClient);
