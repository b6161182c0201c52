import type { DatabaseName } from '../../../src/db/layout';
import type { CheckContext } from '../context';
import {
  databasesUsedBy,
  migratesAtStart,
  prismaScriptFile,
  projectProcesses,
  type ResolvedProcess,
} from '../processes';
import { dependsOnOf, services } from '../services';

/**
 * No process uses a database before its migrations are applied. A worker
 * migrates its own service's database at start (src/workers/main.ts), and the
 * others may use that one as the file has always let them (the API only pings
 * it). A database no worker migrates, the read model's, is migrated by a
 * one-shot (`scripts/prisma.ts migrate`, as `npm run db:migrate`) that every
 * process using it waits for with service_completed_successfully; otherwise
 * the first relay or the first GET /orders could meet a database without
 * tables, or several processes migrate it at once.
 */
export function checkMigrations(context: CheckContext): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  const processes = [...projectProcesses(context)].filter(
    (entry): entry is [string, ResolvedProcess] => typeof entry[1] !== 'string',
  );
  const migratedByJob = new Map<string, DatabaseName[]>();
  for (const [name, { role }] of processes) {
    if (role.kind === 'migrate') migratedByJob.set(name, role.databases);
  }
  const migratedAtStart = (database: DatabaseName) => processes.some(([, { role }]) => migratesAtStart(role, database));
  for (const [name, { role }] of processes) {
    if (role.kind === 'migrate') continue;
    const awaited = Object.entries(dependsOnOf(all.get(name) ?? {}))
      .filter(([, condition]) => condition === 'service_completed_successfully')
      .map(([target]) => target);
    for (const database of databasesUsedBy(role)) {
      if (migratesAtStart(role, database) || migratedAtStart(database)) continue;
      if (awaited.some((target) => migratedByJob.get(target)?.includes(database))) continue;
      const jobs = [...migratedByJob].filter(([, databases]) => databases.includes(database)).map(([job]) => job);
      problems.push(
        jobs.length > 0
          ? `${name}: uses the ${database} database, which no worker migrates at start, without waiting for ` +
              `${jobs.join(' or ')} (depends_on with condition service_completed_successfully)`
          : `${name}: uses the ${database} database, which no worker migrates at start, and no one-shot ` +
              `\`${prismaScriptFile} migrate\` (npm run db:migrate) migrates it before`,
      );
    }
  }
  return problems;
}
