/**
 * The goals of issue 17 (cost per order), read off two result files: a run of the code before the work
 * (`before`) and a run after it. Each goal is a ratio; where a goal compares the two runs, both ran on the same
 * machine one after the other, so "under the same conditions" is as close as a shared machine allows.
 */
import type { ReadPathStore } from './read-path';
import { bytes, count, dash, markdownTable, ms, providerLabel, times } from './report-format';
import type { BenchResult, ProcessRole, ProcessUsage, ProviderRun } from './results';

/** The thresholds, as the issue states them. */
export const costGoals = {
  /** P1: saga / bare throughput at these levels, at least this. */
  throughput: { levels: [16, 32], ratio: 0.8 },
  /** P2: saga / bare end-to-end p50 at one in flight, at most this; POST /orders acceptance p50, after / before, at most this. */
  hops: { endToEndRatio: 1.0, acceptanceAfterOverBefore: 0.5 },
  /** P3: read model / visibility speed-up at this many orders, p50 and p99, at least this; the largest size is reported. */
  readPath: { orders: 10_000, ratio: 10 },
  /** P4: worker CPU per confirmed order and resident memory at rest, after / before, at most this. */
  cost: { afterOverBefore: 0.5 },
} as const;

/** The Node processes `npm start` runs for the system: the service workers, the API and the partners. */
const startRoles: ReadonlySet<ProcessRole> = new Set(['worker', 'api', 'partner']);

type Verdict = 'met' | 'not met' | 'not measured';

interface GoalRow {
  goal: string;
  provider: string;
  target: string;
  before: string;
  after: string;
  verdict: Verdict;
}

function verdictOf(value: number | null | undefined, passes: (value: number) => boolean): Verdict {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'not measured';
  return passes(value) ? 'met' : 'not met';
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function runOf(result: BenchResult | null, provider: ProviderRun['provider']): ProviderRun | undefined {
  return result?.providers.find((run) => run.provider === provider);
}

function throughputRatio(run: ProviderRun | undefined, concurrency: number): number | null {
  return run?.levels.find((level) => level.concurrency === concurrency)?.throughputRatio ?? null;
}

/** Service workers' CPU per confirmed order at the run's highest level, whatever their layout. */
export function workerCpuPerOrder(run: ProviderRun | undefined): { ms: number; concurrency: number } | null {
  const highest = run?.levels[run.levels.length - 1];
  if (!highest || highest.saga.completed === 0) return null;
  const workers = highest.saga.processes.filter((usage) => usage.role === 'worker');
  if (workers.length === 0) return null;
  return { ms: sum(workers.map((usage) => usage.cpuMs)) / highest.saga.completed, concurrency: highest.concurrency };
}

/** Resident memory at rest of the Node processes `npm start` runs. */
export function restingMemory(run: ProviderRun | undefined): { bytes: number; processes: ProcessUsage[] } | null {
  const processes = run?.idle.filter((usage) => startRoles.has(usage.role)) ?? [];
  if (processes.length === 0) return null;
  return { bytes: sum(processes.map((usage) => usage.rssBytes)), processes };
}

function quotient(after: number | null | undefined, before: number | null | undefined): number | null {
  if (after === null || after === undefined || before === null || before === undefined || before === 0) return null;
  return after / before;
}

/** The slowest query's speed-up (visibility / read model) at a size, at p50 and p99, for one read model. */
function readPathSpeedUp(
  result: BenchResult | null,
  store: ReadPathStore,
  orders: number,
): { p50: number; p99: number } | null {
  const ratios = result?.readPath?.ratios.filter((ratio) => ratio.orders === orders && ratio.readModel === store);
  if (!ratios || ratios.length === 0) return null;
  const least = (values: (number | null)[]) =>
    values.some((value) => value === null) ? Number.NaN : Math.min(...(values as number[]));
  return {
    p50: least(ratios.map((ratio) => ratio.visibilityOverReadModel.p50)),
    p99: least(ratios.map((ratio) => ratio.visibilityOverReadModel.p99)),
  };
}

function speedUpText(speedUp: { p50: number; p99: number } | null): string {
  return speedUp ? `p50 ${times(speedUp.p50)}, p99 ${times(speedUp.p99)}` : dash;
}

function providerRows(provider: ProviderRun['provider'], after: BenchResult, before: BenchResult | null): GoalRow[] {
  const now = runOf(after, provider);
  const then = runOf(before, provider);
  const label = providerLabel[provider];
  const rows: GoalRow[] = [];
  for (const level of costGoals.throughput.levels) {
    const ratio = throughputRatio(now, level);
    rows.push({
      goal: `P1 throughput, saga / bare at ${level} in flight`,
      provider: label,
      target: `>= ${times(costGoals.throughput.ratio)}`,
      before: times(throughputRatio(then, level)),
      after: times(ratio),
      verdict: verdictOf(ratio, (value) => value >= costGoals.throughput.ratio),
    });
  }
  const endToEnd = (run: ProviderRun | undefined) =>
    run?.endToEnd?.concurrency === 1 ? (run.endToEnd.ratio.p50 ?? null) : null;
  rows.push({
    goal: 'P2 end to end p50, saga / bare at 1 in flight',
    provider: label,
    target: `<= ${times(costGoals.hops.endToEndRatio)}`,
    before: times(endToEnd(then)),
    after: times(endToEnd(now)),
    verdict: verdictOf(endToEnd(now), (value) => value <= costGoals.hops.endToEndRatio),
  });
  const acceptanceBefore = then?.startLatency?.earlyReturn.p50;
  const acceptanceAfter = now?.startLatency?.earlyReturn.p50;
  const acceptance = quotient(acceptanceAfter, acceptanceBefore);
  rows.push({
    goal: '`POST /orders` acceptance p50, after / before',
    provider: label,
    target: `<= ${times(costGoals.hops.acceptanceAfterOverBefore)}`,
    before: ms(acceptanceBefore),
    after: `${ms(acceptanceAfter)} (${times(acceptance)})`,
    verdict: verdictOf(acceptance, (value) => value <= costGoals.hops.acceptanceAfterOverBefore),
  });
  const cpuBefore = workerCpuPerOrder(then);
  const cpuAfter = workerCpuPerOrder(now);
  const cpu = quotient(cpuAfter?.ms, cpuBefore?.ms);
  rows.push({
    goal: `P4 service workers' CPU per confirmed order (at ${cpuAfter?.concurrency ?? dash} in flight), after / before`,
    provider: label,
    target: `<= ${times(costGoals.cost.afterOverBefore)}`,
    before: ms(cpuBefore?.ms),
    after: `${ms(cpuAfter?.ms)} (${times(cpu)})`,
    verdict: verdictOf(cpu, (value) => value <= costGoals.cost.afterOverBefore),
  });
  const memoryBefore = restingMemory(then);
  const memoryAfter = restingMemory(now);
  const memory = quotient(memoryAfter?.bytes, memoryBefore?.bytes);
  rows.push({
    goal: 'P4 resident memory of the Node processes at rest (workers, API, partners), after / before',
    provider: label,
    target: `<= ${times(costGoals.cost.afterOverBefore)}`,
    before: bytes(memoryBefore?.bytes),
    after: `${bytes(memoryAfter?.bytes)} (${times(memory)})`,
    verdict: verdictOf(memory, (value) => value <= costGoals.cost.afterOverBefore),
  });
  return rows;
}

function readPathRows(after: BenchResult, before: BenchResult | null): GoalRow[] {
  const rows: GoalRow[] = [];
  const { orders, ratio } = costGoals.readPath;
  const stores = ['read-model-sqlite', 'read-model-postgres'] as const;
  for (const store of stores) {
    const now = readPathSpeedUp(after, store, orders);
    if (!now) continue;
    rows.push({
      goal: `P3 first page at ${count(orders)} orders, visibility / read model (slowest query)`,
      provider: providerLabel[store === 'read-model-sqlite' ? 'sqlite' : 'postgres'],
      target: `>= ${times(ratio)} at p50 and p99`,
      before: speedUpText(readPathSpeedUp(before, store, orders)),
      after: speedUpText(now),
      verdict: verdictOf(Math.min(now.p50, now.p99), (value) => value >= ratio),
    });
  }
  const largest = after.readPath?.sizes[after.readPath.sizes.length - 1];
  if (largest !== undefined && largest > orders) {
    for (const store of stores) {
      const now = readPathSpeedUp(after, store, largest);
      if (!after.readPath?.measurements.some((m) => m.orders === largest && m.store === store)) continue;
      rows.push({
        goal: `P3 first page at ${count(largest)} orders (reported), visibility / read model (slowest query)`,
        provider: providerLabel[store === 'read-model-sqlite' ? 'sqlite' : 'postgres'],
        target: 'reported',
        before: speedUpText(readPathSpeedUp(before, store, largest)),
        after: now ? speedUpText(now) : 'read model only: visibility not seeded to this size',
        verdict: now ? verdictOf(Math.min(now.p50, now.p99), (value) => value >= ratio) : 'not measured',
      });
    }
  }
  return rows;
}

/** The goals as one table, before and after; null when the run measured none of them. */
export function goalsSection(after: BenchResult, before: BenchResult | null, beforeSource?: string): string | null {
  const rows = [
    ...after.providers.flatMap((run) => providerRows(run.provider, after, before)),
    ...readPathRows(after, before),
  ];
  if (rows.length === 0) return null;
  const met = rows.filter((row) => row.verdict === 'met').length;
  const intro = before
    ? [
        `Before is the run of ${before.startedAt} (${beforeSource ?? 'the before file'}), of the code before the work`,
        'on the issue, on the same machine; after is this run. A goal that compares the two runs holds only as far as',
        'the machine was equally quiet in both (see both load averages).',
        `Before: load ${before.machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(', ')} at its start.`,
      ]
    : ['No before run was given: the goals that compare two runs are not measured.'];
  return [
    '## Goals of issue 17: before and after',
    '',
    ...intro,
    '',
    markdownTable(
      ['Goal', 'Databases', 'Target', 'Before', 'After', 'Verdict'],
      rows.map((row) => [row.goal, row.provider, row.target, row.before, row.after, row.verdict]),
      ['left', 'left', 'left', 'right', 'right', 'left'],
    ),
    '',
    `${met} of ${rows.length} met.`,
    ...restingMemoryTables(after, before),
  ].join('\n');
}

/** P4 per process: each Node process's resident memory at rest, before and after, per provider. */
function restingMemoryTables(after: BenchResult, before: BenchResult | null): string[] {
  const parts: string[] = [];
  for (const run of after.providers) {
    const runs = [
      ['Before', restingMemory(runOf(before, run.provider))],
      ['After', restingMemory(run)],
    ] as const;
    const rows = runs.flatMap(([when, memory]) =>
      (memory?.processes ?? []).map((usage) => [when, usage.name, bytes(usage.rssBytes)]),
    );
    if (rows.length === 0) continue;
    parts.push(
      '',
      `Resident memory at rest per process on ${providerLabel[run.provider]}:`,
      '',
      markdownTable(['Run', 'Process', 'RSS at rest'], rows, ['left', 'left', 'right']),
    );
  }
  return parts;
}
