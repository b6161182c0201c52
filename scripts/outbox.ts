/**
 * The services' outboxes, for an operator: what waits, what is parked and why, and re-driving parked events.
 *
 *   npm run outbox -- status                       # events per service and status, age of the oldest pending
 *   npm run outbox -- parked [--service orders]    # the dead letters, with their last error
 *   npm run outbox -- redrive <eventId…>           # parked → pending, attempts reset; the relay delivers them
 *   npm run outbox -- redrive --all [--service payments]
 *
 * Reads the databases the configuration names (*_DATABASE_URL, as for npm start). Exits 0 on success, 1 when a
 * requested event is not parked, 2 on a usage, configuration or connection error.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config';
import { createServiceDb, databaseProvider, pingDatabase, redactUrl, type AnyServiceDb } from '../src/db';
import { sqliteFilePath } from '../src/db/url';
import { listParked, outboxStatus, outboxStatuses, redrive, type ParkedEvent } from '../src/events';
import { serviceNames, type ServiceName } from '../src/temporal/names';

const usage = `Usage: npm run outbox -- <command> [--service <${serviceNames.join('|')}>]

Commands:
  status                  events per service and status, and how long the oldest pending one has waited
  parked                  the parked events (dead letters): id, type, aggregate, attempts, events held back, last error
  redrive <eventId…>      put parked events back to pending (attempts reset); the relay delivers them next
  redrive --all           every parked event

Options:
  --service <name>        only this service's outbox (default: all four)
  --help                  show this help

Exit status: 0 done, 1 a requested event is not parked, 2 usage, configuration or connection error.`;

/** A mistake in how the command was run or what it could reach: exit status 2. */
class SetupError extends Error {
  override name = 'SetupError';
}

const commands = ['status', 'parked', 'redrive'] as const;
type Command = (typeof commands)[number];

interface Options {
  command: Command;
  services: ServiceName[];
  eventIds: string[];
  all: boolean;
}

function parseOptions(argv: string[]): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        service: { type: 'string' },
        all: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new SetupError(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [command, ...eventIds] = positionals;
  if (!commands.includes(command as Command)) {
    throw new SetupError(`${command ? `Unknown command ${command}` : 'No command given'}\n\n${usage}`);
  }
  const service = values.service;
  if (service !== undefined && !serviceNames.includes(service as ServiceName)) {
    throw new SetupError(`Unknown service ${service}: one of ${serviceNames.join(', ')}`);
  }
  if (command === 'redrive' && values.all === eventIds.length > 0) {
    throw new SetupError(`redrive takes event ids or --all (one of the two)\n\n${usage}`);
  }
  if (command !== 'redrive' && (eventIds.length > 0 || values.all)) {
    throw new SetupError(`${command} takes no event ids and no --all\n\n${usage}`);
  }
  return {
    command: command as Command,
    services: service ? [service as ServiceName] : [...serviceNames],
    eventIds,
    all: values.all,
  };
}

async function openDatabase(service: ServiceName, url: string): Promise<AnyServiceDb> {
  // Opening a missing SQLite file would create an empty database; an operator's command must not.
  if (databaseProvider(url) === 'sqlite' && !existsSync(sqliteFilePath(url))) {
    throw new SetupError(`The ${service} database does not exist: ${redactUrl(url)}`);
  }
  const db = createServiceDb(service, url);
  try {
    await pingDatabase(db);
  } catch (error) {
    await db.$disconnect();
    throw new SetupError(
      `Cannot reach the ${service} database at ${redactUrl(url)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return db;
}

/** Columns, left-aligned; numbers right-aligned. */
function table(rows: (string | number)[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => String(row[column] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, column) =>
        typeof cell === 'number' ? String(cell).padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd(),
  );
}

function age(since: Date | null): string {
  if (!since) return '-';
  const seconds = Math.max(0, Math.round((Date.now() - since.getTime()) / 1_000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 2 * 3_600) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3_600)}h`;
}

async function printStatus(databases: Map<ServiceName, AnyServiceDb>): Promise<number> {
  const rows: (string | number)[][] = [['service', ...outboxStatuses, 'oldest pending']];
  for (const [service, db] of databases) {
    const report = await outboxStatus(db);
    rows.push([service, ...outboxStatuses.map((status) => report.counts[status]), age(report.oldestPendingOccurredAt)]);
  }
  console.log(table(rows).join('\n'));
  return 0;
}

async function printParked(databases: Map<ServiceName, AnyServiceDb>): Promise<number> {
  const parked: (ParkedEvent & { service: ServiceName })[] = [];
  for (const [service, db] of databases) {
    parked.push(...(await listParked(db)).map((event) => ({ ...event, service })));
  }
  if (parked.length === 0) {
    console.log('No parked events.');
    return 0;
  }
  const rows: (string | number)[][] = [
    ['service', 'event id', 'type', 'aggregate', 'version', 'attempts', 'held back', 'last error'],
    ...parked.map((event) => [
      event.service,
      event.eventId,
      event.type,
      `${event.aggregateType} ${event.aggregateId}`,
      event.aggregateVersion,
      event.attempts,
      event.heldBack,
      (event.lastError ?? '').replace(/\s+/g, ' ').slice(0, 160),
    ]),
  ];
  console.log(table(rows).join('\n'));
  console.log(`\n${parked.length} parked. Re-drive with: npm run outbox -- redrive <event id…> (or --all)`);
  return 0;
}

async function redriveEvents(databases: Map<ServiceName, AnyServiceDb>, options: Options): Promise<number> {
  // Event ids are ULIDs, unique across services: each id is looked for in every selected outbox.
  const notFound = new Set(options.eventIds);
  let total = 0;
  for (const [service, db] of databases) {
    const result = await redrive(db, options.all ? 'all' : options.eventIds);
    for (const eventId of result.redriven) {
      notFound.delete(eventId);
      console.log(`${service}: ${eventId} re-driven`);
    }
    total += result.redriven.length;
  }
  console.log(`${total} event(s) re-driven; the relay delivers them on its next poll.`);
  for (const eventId of notFound) console.error(`${eventId}: not a parked event in any selected outbox`);
  return notFound.size > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    console.log(usage);
    return 0;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new SetupError(error.message);
    throw error;
  }
  const databases = new Map<ServiceName, AnyServiceDb>();
  try {
    for (const service of options.services) {
      databases.set(service, await openDatabase(service, config.databaseUrls[service]));
    }
    switch (options.command) {
      case 'status':
        return await printStatus(databases);
      case 'parked':
        return await printParked(databases);
      case 'redrive':
        return await redriveEvents(databases, options);
    }
  } finally {
    await Promise.all([...databases.values()].map((db) => db.$disconnect()));
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof SetupError ? error.message : error);
    process.exitCode = 2;
  },
);
