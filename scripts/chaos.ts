import { parseArgs } from 'node:util';
import { defaultChaosOptions, faultNames, runChaos, type FaultName } from '../tooling/reliability/chaos';

/**
 * `npm run chaos -- [--orders 300] [--concurrency 8] [--database sqlite|postgres]
 *   [--cluster [--replicas 2]] [--faults kill-workers,restart-temporal,database-outage]
 *   [--kill-every 4000] [--outage 15000] [--faults-for 90000] [--seed 1]`
 *
 * Runs the system on loopback under a bounded load while injecting faults,
 * on the dev server or, with --cluster, on the real Temporal cluster (its
 * PostgreSQL: CLUSTER_POSTGRES_URL or TEST_POSTGRES_URL), then checks that every order finished and every invariant holds. Exits 1 if
 * not, so it can gate a build; the figures are printed either way.
 */
const usage = `usage: npm run chaos -- [--orders N] [--concurrency N] [--database sqlite|postgres] [--cluster] [--replicas N]
                       [--faults ${faultNames.join(',')}|none]
                       [--kill-every MS] [--outage MS] [--faults-for MS] [--drain-timeout MS] [--seed N] [--verbose]`;

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new Error(`--${name} must be a positive whole number\n${usage}`);
  return number;
}

function parseFaults(value: string | undefined): FaultName[] {
  if (value === undefined) return [...faultNames];
  if (value === 'none') return [];
  const faults = value.split(',').map((fault) => fault.trim());
  const unknown = faults.filter((fault) => !faultNames.includes(fault as FaultName));
  if (unknown.length > 0) throw new Error(`unknown fault(s): ${unknown.join(', ')}\n${usage}`);
  return faults as FaultName[];
}

function parseDatabase(value: string | undefined): 'sqlite' | 'postgres' {
  if (value === undefined) return defaultChaosOptions.database;
  if (value === 'sqlite' || value === 'postgres') return value;
  throw new Error(`--database must be sqlite or postgres\n${usage}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string' },
      concurrency: { type: 'string' },
      faults: { type: 'string' },
      database: { type: 'string' },
      'kill-every': { type: 'string' },
      outage: { type: 'string' },
      'faults-for': { type: 'string' },
      'drain-timeout': { type: 'string' },
      seed: { type: 'string' },
      cluster: { type: 'boolean' },
      replicas: { type: 'string' },
      verbose: { type: 'boolean' },
    },
  });
  const report = await runChaos({
    orders: positiveInteger('orders', values.orders, defaultChaosOptions.orders),
    concurrency: positiveInteger('concurrency', values.concurrency, defaultChaosOptions.concurrency),
    faults: parseFaults(values.faults),
    database: parseDatabase(values.database),
    temporal: values.cluster ? 'cluster' : 'dev-server',
    replicas: positiveInteger('replicas', values.replicas, defaultChaosOptions.replicas),
    killEveryMs: positiveInteger('kill-every', values['kill-every'], defaultChaosOptions.killEveryMs),
    outageMs: positiveInteger('outage', values.outage, defaultChaosOptions.outageMs),
    faultWindowMs: positiveInteger('faults-for', values['faults-for'], defaultChaosOptions.faultWindowMs),
    drainTimeoutMs: positiveInteger('drain-timeout', values['drain-timeout'], defaultChaosOptions.drainTimeoutMs),
    seed: positiveInteger('seed', values.seed, defaultChaosOptions.seed),
    verbose: values.verbose ?? false,
  });

  const { orders, faults, invariants } = report;
  console.log('\nchaos run');
  console.table({
    'orders placed': orders.placed,
    'duplicate requests sent (absorbed by Idempotency-Key)': orders.duplicatesSent,
    'client retries while the API or Temporal was down': orders.clientRetries,
    ...Object.fromEntries(Object.entries(orders.byStatus).map(([status, count]) => [`orders ${status}`, count])),
    'workers killed (SIGKILL) and restarted': faults.workerKills,
    [values.cluster ? 'history service SIGKILLs and restarts' : 'Temporal server restarts']: faults.temporalRestarts,
    'database outages': faults.databaseOutages,
    'activity attempts redone after faults': report.retriedActivityAttempts,
    'time to drain after the load (s)': Number((report.drainMs / 1000).toFixed(1)),
    'whole run (s)': Number((report.durationMs / 1000).toFixed(1)),
    'invariant violations': invariants.violations.length,
    'refunds resolved by hand': invariants.resolvedManually.length,
  });
  for (const violation of invariants.violations) console.log(`VIOLATION ${JSON.stringify(violation)}`);
  if (report.undrained.length > 0) console.log(`UNFINISHED orders: ${report.undrained.join(', ')}`);
  const ok = invariants.ok && report.undrained.length === 0;
  console.log(ok ? 'chaos: every order finished and every invariant holds' : 'chaos: FAILED');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
