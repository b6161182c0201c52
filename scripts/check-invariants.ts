/**
 * Checks the saga's invariants (tooling/reliability/invariants.ts) on the databases the configuration names, and on
 * Temporal's order workflows:
 *
 *   npx tsx scripts/check-invariants.ts                 # TEMPORAL_* (or a profile), *_DATABASE_URL as for npm start
 *   npx tsx scripts/check-invariants.ts --no-temporal   # databases only: PENDING orders are not verified
 *
 * Prints the figures (rows by status, stock per SKU, money) and every violation. Exits 0 when every invariant holds,
 * 1 on any violation, 2 on a usage, configuration or connection error.
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { Client, type Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { ConfigError, loadConfig, type AppConfig } from '../src/config';
import {
  databaseProvider,
  pingDatabase,
  redactUrl,
  type ServiceDatabases,
  openServiceDatabases,
  closeServiceDatabases,
} from '../src/db';
import { sqliteFilePath } from '../src/db/url';
import { formatCents } from '../src/domain/money';
import { createGatewayClient } from '../src/partners/gateway-client';
import { checkInvariants, orderRowStatuses, type InvariantReport } from '../tooling/reliability/invariants';
import { connectClient, describeTemporalEndpoint } from '../src/temporal/connection';
import { createDataConverter } from '../src/temporal/data-converter';
import { serviceNames } from '../src/temporal/names';

const usage = `Usage: npx tsx scripts/check-invariants.ts [--no-temporal] [--no-gateway]

Checks every order saga invariant on the four service databases (ORDERS_DATABASE_URL, INVENTORY_DATABASE_URL,
PAYMENTS_DATABASE_URL, SHIPPING_DATABASE_URL), on the order workflows at TEMPORAL_ADDRESS (or the Temporal profile
the TEMPORAL_* variables name) and on the payment
gateway's own charges at PAYMENT_GATEWAY_URL.

  --no-temporal   check the databases only (PENDING orders are reported as running, unverified)
  --no-gateway    do not ask the payment gateway
  --help          show this help

Exit status: 0 every invariant holds, 1 a violation was found, 2 usage or connection error.`;

/** How long to wait for Temporal before giving up with exit status 2. */
const temporalConnectTimeout = '5s';

/** A mistake in how the command was run or what it could reach: exit status 2. */
class SetupError extends Error {
  override name = 'SetupError';
}

function parseOptions(argv: string[]): { temporal: boolean; gateway: boolean; help: boolean } {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        'no-temporal': { type: 'boolean', default: false },
        'no-gateway': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    return { temporal: !values['no-temporal'], gateway: !values['no-gateway'], help: values.help };
  } catch (error) {
    throw new SetupError(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  }
}

async function openDatabases(urls: AppConfig['databaseUrls']): Promise<ServiceDatabases> {
  for (const service of serviceNames) {
    const url = urls[service];
    // Opening a missing SQLite file would create an empty database; a checker must not.
    if (databaseProvider(url) === 'sqlite' && !existsSync(sqliteFilePath(url))) {
      throw new SetupError(`The ${service} database does not exist: ${redactUrl(url)}`);
    }
  }
  const db: ServiceDatabases = openServiceDatabases(urls);
  await Promise.all(
    serviceNames.map(async (service) => {
      try {
        await pingDatabase(db[service]);
      } catch (error) {
        throw new SetupError(
          `Cannot reach the ${service} database at ${redactUrl(urls[service])}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }),
  );
  return db;
}

async function connectTemporal(config: AppConfig): Promise<Connection> {
  try {
    return await connectClient(config.temporal.endpoint, {
      connectTimeout: temporalConnectTimeout,
      hint: 'Start it, point TEMPORAL_ADDRESS (or TEMPORAL_PROFILE) at it, or run with --no-temporal to check the databases only.',
    });
  } catch (error) {
    throw new SetupError(error instanceof Error ? error.message : String(error));
  }
}

/** Columns: text left-aligned, numbers right-aligned. */
function table(rows: (string | number)[][], indent = '  '): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => String(row[column] ?? '').length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, column) =>
          typeof cell === 'number' || /^-?\$?[\d.]+$/.test(cell) || cell === '?'
            ? String(cell).padStart(widths[column]!)
            : cell.padEnd(widths[column]!),
        )
        .join('  ')
        .trimEnd(),
  );
}

function byStatus(counts: Record<string, number>, annotate: Record<string, string> = {}): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '(none)';
  return entries
    .map(([status, count]) => `${status} ${count}${annotate[status] ? ` (${annotate[status]})` : ''}`)
    .join(' · ');
}

function formatReport(report: InvariantReport, temporal: string): string[] {
  const { figures } = report;
  const pending = figures.pendingOrders;
  const pendingDetail = report.temporalChecked
    ? `${pending.running} running, ${pending.notRunning} without a running workflow`
    : 'taken as running, not verified';
  const lines = [
    `Order saga invariants; Temporal: ${temporal}`,
    '',
    ...table([
      ['Orders', byStatus(figures.orders, { [orderRowStatuses.pending]: pendingDetail })],
      ['Reservations', byStatus(figures.reservations)],
      ['Payments', byStatus(figures.payments)],
      ['Shipments', byStatus(figures.shipments)],
    ]),
    '',
    'Stock',
    ...table([
      ['SKU', 'initial', 'available', 'reserved', 'committed', 'unaccounted'],
      ...figures.stock.map((row) => [
        row.sku,
        row.initial ?? '?',
        row.available ?? '-',
        row.reserved,
        row.committed,
        row.unaccounted ?? '?',
      ]),
    ]),
    '',
    'Money',
    ...table([
      ['charged (not refunded)', formatCents(figures.money.chargedCents)],
      ['  of orders still running', formatCents(figures.money.inFlightCents)],
      ['confirmed orders', formatCents(figures.money.confirmedCents)],
      ['refunds resolved by hand', formatCents(figures.money.resolvedManuallyCents)],
      ['unaccounted', formatCents(figures.money.unaccountedCents)],
      ['refunded', formatCents(figures.money.refundedCents)],
    ]),
    ...(figures.gateway
      ? [
          '',
          'Payment gateway (its own store)',
          ...table([
            ['final orders checked', String(figures.gateway.ordersChecked)],
            ['succeeded charges', String(figures.gateway.succeededCharges)],
            ['declined charges', String(figures.gateway.declinedCharges)],
            ['orders charged twice', String(figures.gateway.ordersChargedTwice)],
            ['kept (charged − refunded)', formatCents(figures.gateway.keptCents)],
          ]),
        ]
      : []),
  ];
  if (report.resolvedManually.length > 0) {
    lines.push('', `Refunds resolved by hand (${report.resolvedManually.length}): the payment stays CHARGED`);
    lines.push(
      ...table(
        report.resolvedManually.map((refund) => [
          refund.orderId,
          refund.paymentId,
          formatCents(refund.amountCents),
          refund.note === null ? '' : JSON.stringify(refund.note),
        ]),
      ),
    );
  }
  if (report.violations.length > 0) {
    lines.push('', `Violations (${report.violations.length})`);
    for (const violation of report.violations) {
      lines.push(`  [${violation.invariant}] ${violation.message}`);
      if (violation.hint) lines.push(`      hint: ${violation.hint}`);
    }
  }
  lines.push('', report.ok ? 'OK: every invariant holds' : `FAILED: ${report.violations.length} violation(s)`);
  return lines;
}

function dataConverterOf(config: AppConfig): DataConverter {
  try {
    return createDataConverter(config.payloadEncryption);
  } catch (error) {
    if (error instanceof ConfigError) throw new SetupError(error.message);
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(usage);
    return 0;
  }
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new SetupError(error.message);
    throw error;
  }
  const db = await openDatabases(config.databaseUrls);
  let connection: Connection | undefined;
  try {
    connection = options.temporal ? await connectTemporal(config) : undefined;
    // Pending orders' states come back encrypted, as the workers wrote them: the same keys as theirs.
    const client = connection
      ? new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverterOf(config) })
      : undefined;
    const gateway = options.gateway ? createGatewayClient(config.gateway) : undefined;
    const report = await checkInvariants({ db, client, gateway });
    const temporal = connection ? describeTemporalEndpoint(config.temporal.endpoint) : 'not consulted (--no-temporal)';
    for (const line of formatReport(report, temporal)) console.log(line);
    return report.ok ? 0 : 1;
  } finally {
    await connection?.close();
    await closeServiceDatabases(db);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof SetupError) {
      console.error(error.message);
    } else {
      console.error(`check-invariants failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exitCode = 2;
  },
);
