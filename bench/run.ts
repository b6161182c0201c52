import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeMachine, loadAverage } from './machine';
import { measureProvider } from './measure';
import { parseOptions, usage, type RunnerOptions } from './options';
import { resultText } from './print';
import { resultFormatVersion, type BenchResult, type SkippedPart } from './results';
import type { System } from './system';
import { dynamicConfigArgs } from '../tooling/temporal/servers';

/**
 * `npm run bench`: the saga against the bare engine, side by side, in one run (see bench/results.ts for what the
 * result file holds, and `npm run bench -- --help`).
 */

const began = performance.now();
const progress = (line: string) => {
  process.stderr.write(`[bench +${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
};

let activeSystem: System | undefined;
let exiting = false;

/** Stops whatever system is up (bounded), then exits: no process of the run outlives it. */
async function abort(reason: string): Promise<never> {
  if (!exiting) {
    exiting = true;
    progress(`aborting: ${reason}`);
    const system = activeSystem;
    if (system) await Promise.race([system.stop(), new Promise((resolve) => setTimeout(resolve, 45_000))]);
  }
  process.exit(1);
}

function failures(result: BenchResult): string[] {
  const problems: string[] = [];
  for (const run of result.providers) {
    if (run.error) problems.push(`${run.provider}: ${run.error}`);
    for (const level of run.levels) {
      if (level.saga.completed === 0)
        problems.push(`${run.provider}: no order confirmed at ${level.concurrency} in flight`);
      if (level.bare.completed === 0)
        problems.push(`${run.provider}: no bare run completed at ${level.concurrency} in flight`);
    }
  }
  return problems;
}

async function main(options: RunnerOptions): Promise<number> {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  mkdirSync(options.outDir, { recursive: true });
  const resultPrefix = path.join(options.outDir, stamp);
  const {
    postgresAdminUrl,
    drainMs: _drain,
    overallDeadlineMs: _deadline,
    outDir: _out,
    verbose: _v,
    help: _h,
    command,
    ...benchOptions
  } = options;
  void postgresAdminUrl;
  const machine = await describeMachine(options.postgresAdminUrl);
  const notes: string[] = [];
  const skipped: SkippedPart[] = [];
  if (machine.loadAverageAtStart[0] > machine.cpus * 0.5) {
    notes.push(
      `the machine was busy at the start (load average ${machine.loadAverageAtStart[0]} on ${machine.cpus} cores): ` +
        'ratios hold better than absolute figures',
    );
  }
  if (!options.providers.includes('postgres')) {
    skipped.push({
      part: 'postgres',
      reason: options.smoke
        ? '--smoke runs SQLite only'
        : 'no PostgreSQL URL (--postgres-url, BENCH_POSTGRES_URL or TEST_POSTGRES_URL)',
    });
  }
  const result: BenchResult = {
    formatVersion: resultFormatVersion,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    durationMs: 0,
    command,
    options: benchOptions,
    machine,
    providers: [],
    skipped,
    profile: null,
    readPath: null,
    timeSkipping: null,
    settings: {},
    devServerDynamicConfig: options.serverDefaults ? [] : dynamicConfigArgs().filter((_, index) => index % 2 === 1),
    notes,
  };
  const runTag = Date.now().toString(36);

  if (!options.system) skipped.push({ part: 'system', reason: '--only read-path' });
  for (const [index, provider] of options.system ? options.providers.entries() : []) {
    const outcome = await measureProvider({
      provider,
      options,
      runTag,
      progress,
      profile: options.profile && index === 0,
      resultPrefix,
      onSystem: (system) => {
        activeSystem = system;
      },
    });
    result.providers.push(outcome.run);
    if (Object.keys(outcome.settings).length > 0) result.settings = outcome.settings;
    if (outcome.profile) result.profile = outcome.profile;
    if (outcome.profileError) skipped.push({ part: 'profile', reason: `failed: ${outcome.profileError}` });
  }
  if (!options.profile) {
    const reason = options.smoke ? '--smoke has no profile' : options.system ? '--skip-profile' : '--only read-path';
    skipped.push({ part: 'profile', reason });
  }

  if (options.readPath) {
    progress('read path: read model vs Temporal visibility (bench/read-path.ts)');
    try {
      const { measureReadPath } = await import('./read-path');
      result.readPath = await measureReadPath({
        ...(options.postgresAdminUrl ? { postgresUrl: options.postgresAdminUrl } : {}),
        ...(options.readPathSizes ? { sizes: options.readPathSizes } : {}),
        ...(options.visibilityUpTo ? { visibilityUpTo: options.visibilityUpTo } : {}),
        serverDefaults: options.serverDefaults,
        log: (line) => progress(`  ${line}`),
      });
      const unseeded = result.readPath.visibilityUnseeded;
      if (unseeded) {
        notes.push(
          `read path: Temporal visibility could not be seeded to ${unseeded.orders} orders (${unseeded.reason}); ` +
            'from that size on only the read models were timed',
        );
      }
    } catch (error) {
      skipped.push({ part: 'read-path', reason: `failed: ${error instanceof Error ? error.message : String(error)}` });
    }
  } else {
    skipped.push({ part: 'read-path', reason: options.smoke ? '--smoke skips it' : '--skip-read-path' });
  }
  if (options.timeSkipping) {
    progress('time skipping: the test suite longest-timer saga (bench/time-skipping.ts)');
    try {
      const { measureTimeSkipping } = await import('./time-skipping');
      result.timeSkipping = await measureTimeSkipping({ log: (line) => progress(`  ${line}`) });
    } catch (error) {
      skipped.push({
        part: 'time-skipping',
        reason: `failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  } else {
    const reason = options.smoke ? '--smoke skips it' : options.system ? '--skip-time-skipping' : '--only read-path';
    skipped.push({ part: 'time-skipping', reason });
  }

  result.machine.loadAverageAtEnd = loadAverage();
  result.finishedAt = new Date().toISOString();
  result.durationMs = Math.round(performance.now() - began);
  const problems = failures(result);
  for (const problem of problems) notes.push(`FAILED: ${problem}`);
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(`${resultPrefix}.json`, json);
  writeFileSync(path.join(options.outDir, 'latest.json'), json);
  console.log(resultText(result));
  console.log(`\nwritten: ${path.relative(process.cwd(), `${resultPrefix}.json`)} and latest.json`);
  return problems.length > 0 ? 1 : 0;
}

let options: RunnerOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  process.exit(2);
}
if (options.help) {
  console.log(usage);
  process.exit(0);
}
process.once('SIGINT', () => void abort('interrupted'));
process.once('SIGTERM', () => void abort('terminated'));
const watchdog = setTimeout(
  () => void abort(`the whole run passed its ${options.overallDeadlineMs / 60_000} min deadline`),
  options.overallDeadlineMs,
);
watchdog.unref();
main(options)
  .then((code) => process.exit(code))
  .catch((error: unknown) => abort(error instanceof Error ? (error.stack ?? error.message) : String(error)));
