import path from 'node:path';
import { parseArgs } from 'node:util';
import { redactUrl } from '../src/db';
import { projectRoot } from '../src/project-root';
import type { BenchOptions, DatabaseProvider, WorkerLayout } from './results';

export interface RunnerOptions extends BenchOptions {
  workerLayout: WorkerLayout;
  /** The admin URL itself (BenchOptions.postgresUrl is its redacted form, for the result file). */
  postgresAdminUrl: string | undefined;
  /** After the last level: runs still open this long are abandoned. */
  drainMs: number;
  /** The whole run gives up (and fails) past this, whatever the phases' own deadlines. */
  overallDeadlineMs: number;
  outDir: string;
  verbose: boolean;
  /** Start the dev server with eager activity execution on (system.enableActivityEagerExecution). */
  eagerActivities: boolean;
  help: boolean;
  /** The command as typed, the PostgreSQL password redacted. */
  command: string;
}

export const usage = `Usage: npm run bench [-- options]

Measures what the order saga costs over the bare Temporal engine, side by side in one run on one dev server:
throughput at several concurrency levels, start latency (POST /orders, both modes, vs client.workflow.start),
placement-to-confirmed latency and where it goes, CPU and memory per process, and a CPU profile of the busiest
Node process. SQLite always; PostgreSQL too when a URL is given. Writes bench/results/<timestamp>.json and
bench/results/latest.json (render with npm run bench:report).

Options:
  --smoke                 tiny run for CI: one level, a handful of orders, SQLite only, no profile (< 90 s)
  --levels 1,4,16,32      in-flight orders (and bare workflows) per level
  --runs 200              runs per level and mode, at most
  --level-seconds 15      no run starts past this, per level and mode
  --start-samples 40      sequential requests per start-latency mode
  --postgres-url URL      admin URL of a role that may CREATE DATABASE (default: BENCH_POSTGRES_URL, then
                          TEST_POSTGRES_URL); fresh databases are created and dropped
  --sqlite-only           skip PostgreSQL even if a URL is known
  --skip-profile          no CPU profile
  --profile-seconds 20    how long the profiled process runs under load
  --skip-read-path        skip the read-path measurement (read model vs visibility list)
  --read-path-sizes 1000,10000,100000
                          orders listed by the read-path measurement (the default); seeding visibility
                          takes about 5 ms per order, the read model well under 1 ms
  --visibility-up-to N    seed Temporal visibility only up to N orders; larger sizes time the read models alone
                          (the dev server's starts slow to about 30/s past 20,000 runs)
  --skip-time-skipping    skip the time-skipping measurement
  --only read-path        the read-path measurement alone (no system, profile or time skipping); with
                          PostgreSQL when a URL is known, as above
  --server-defaults       the dev server with its own defaults, not deploy/temporal/dynamicconfig.yaml (the
                          engine's floor as the server ships; the read path's server too)
  --separate-workers      one process per service worker, as compose deploys them (default: the four in one
                          process, as npm start runs them)
  --eager-activities      dev server with system.enableActivityEagerExecution=true: an activity on the workflow's own
                          task queue travels back with the workflow task's answer (measure the floor both ways)
  --out DIR               where result files go (default bench/results)
  --verbose               print the system's own output lines
  --help                  this text
`;

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

/** Visibility's seeding dominates the read path: about 5 ms per order on 2 cores, bounded here at 12. */
const readPathMsPerOrder = 12;
const readPathDefaultLargest = 100_000;

/** The whole run's bound: the system's part, plus the read path's seeding, which grows with its largest size. */
function overallDeadlineMs(
  smoke: boolean,
  readPathOnly: boolean,
  readPathSizes: readonly number[] | null,
  visibilityUpTo: number | null,
): number {
  const system = smoke ? 4 * 60_000 : readPathOnly ? 5 * 60_000 : 30 * 60_000;
  const largest = readPathSizes === null ? readPathDefaultLargest : Math.max(0, ...readPathSizes);
  const seeded = visibilityUpTo === null ? largest : Math.min(largest, visibilityUpTo);
  // The read models past visibility's bound seed in well under a millisecond an order.
  return system + seeded * readPathMsPerOrder + (largest - seeded);
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): RunnerOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      smoke: { type: 'boolean', default: false },
      levels: { type: 'string' },
      runs: { type: 'string' },
      'level-seconds': { type: 'string' },
      'start-samples': { type: 'string' },
      'postgres-url': { type: 'string' },
      'sqlite-only': { type: 'boolean', default: false },
      'skip-profile': { type: 'boolean', default: false },
      'profile-seconds': { type: 'string' },
      'skip-read-path': { type: 'boolean', default: false },
      'read-path-sizes': { type: 'string' },
      'visibility-up-to': { type: 'string' },
      'skip-time-skipping': { type: 'boolean', default: false },
      only: { type: 'string' },
      'separate-workers': { type: 'boolean', default: false },
      'eager-activities': { type: 'boolean', default: false },
      'server-defaults': { type: 'boolean', default: false },
      out: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const smoke = values.smoke;
  if (values.only !== undefined && values.only !== 'read-path') {
    throw new Error(`--only takes read-path, got ${values.only}`);
  }
  const readPathOnly = values.only === 'read-path';
  if (readPathOnly && (smoke || values['skip-read-path'])) {
    throw new Error('--only read-path cannot be combined with --smoke or --skip-read-path');
  }
  const readPathSizes =
    values['read-path-sizes']?.split(',').map((size) => positiveInteger('read-path-sizes', size.trim(), 1)) ?? null;
  const levels = (values.levels ?? (smoke ? '4' : '1,4,16,32'))
    .split(',')
    .map((level) => positiveInteger('levels', level.trim(), 1));
  const postgresAdminUrl =
    smoke || values['sqlite-only']
      ? undefined
      : (values['postgres-url'] ?? env.BENCH_POSTGRES_URL ?? env.TEST_POSTGRES_URL) || undefined;
  const providers: DatabaseProvider[] = postgresAdminUrl ? ['sqlite', 'postgres'] : ['sqlite'];
  const command = ['npm run bench', ...(argv.length > 0 ? ['--', ...argv.map((arg) => redactUrl(arg))] : [])].join(' ');
  return {
    smoke,
    concurrencyLevels: [...new Set(levels)].sort((a, b) => a - b),
    runsPerLevel: positiveInteger('runs', values.runs, smoke ? 12 : 200),
    levelDeadlineMs: positiveInteger('level-seconds', values['level-seconds'], smoke ? 20 : 15) * 1000,
    startLatencySamples: positiveInteger('start-samples', values['start-samples'], smoke ? 5 : 40),
    providers,
    postgresUrl: postgresAdminUrl ? redactUrl(postgresAdminUrl) : null,
    postgresAdminUrl,
    profile: !smoke && !readPathOnly && !values['skip-profile'],
    profileDurationMs: positiveInteger('profile-seconds', values['profile-seconds'], 20) * 1000,
    readPath: !smoke && !values['skip-read-path'],
    readPathSizes,
    visibilityUpTo:
      values['visibility-up-to'] === undefined
        ? null
        : positiveInteger('visibility-up-to', values['visibility-up-to'], 1),
    timeSkipping: !smoke && !readPathOnly && !values['skip-time-skipping'],
    system: !readPathOnly,
    workerLayout: values['separate-workers'] ? 'separate' : 'combined',
    serverDefaults: values['server-defaults'],
    drainMs: 20_000,
    overallDeadlineMs: overallDeadlineMs(
      smoke,
      readPathOnly,
      !smoke && !values['skip-read-path'] ? readPathSizes : [],
      values['visibility-up-to'] === undefined
        ? null
        : positiveInteger('visibility-up-to', values['visibility-up-to'], 1),
    ),
    outDir: path.resolve(projectRoot, values.out ?? path.join('bench', 'results')),
    verbose: values.verbose,
    eagerActivities: values['eager-activities'],
    help: values.help,
    command,
  };
}
