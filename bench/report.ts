/**
 * `npm run bench:report [results.json]`: renders a benchmark run's result file
 * (default bench/results/latest.json, written by `npm run bench`) into
 * docs/BENCHMARKS.md, with its charts as SVG files in docs/benchmarks/.
 *
 * Every sentence about the figures is computed from the file: the report says
 * what this run measured, on the machine it describes, and nothing it did not.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { goalsSection } from './goals';
import { groupedBarSpec, lineChartSpec, renderSvg, type GroupedBar, type SeriesPoint } from './chart';
import type { ReadPathMeasurement, ReadPathQuery, ReadPathStore } from './read-path';
import {
  bytes,
  cores,
  count,
  dash,
  markdownTable,
  ms,
  percent,
  perSecond,
  providerLabel,
  times,
} from './report-format';
import type {
  BenchResult,
  Distribution,
  HistoryBreakdown,
  PercentileRatios,
  ProcessRole,
  ProviderRun,
  WorkerLayout,
} from './results';

export interface RenderedReport {
  markdown: string;
  /** SVG files by name, to write beside the markdown in `chartsDir`. */
  charts: Record<string, string>;
}

export interface RenderOptions {
  /** Where the charts go, relative to the markdown file. Default "benchmarks". */
  chartsDir?: string;
  /** The result file's path as the reader should see it (project-relative). */
  source?: string;
  /** A run of the code before the work the goals measure, and its path as the reader should see it. */
  before?: BenchResult | null;
  beforeSource?: string;
  /** What was tried and what it gave (markdown, written by hand): the figures alone cannot say it. */
  tried?: string | null;
  triedSource?: string;
}

/** In the tables' order: read models first, visibility (the ratios' baseline) last. */
const storeLabel: Record<ReadPathStore, string> = {
  'read-model-sqlite': 'read model (SQLite)',
  'read-model-postgres': 'read model (PostgreSQL)',
  'temporal-visibility': 'Temporal visibility',
};

const queryLabel: Record<ReadPathQuery, string> = {
  unfiltered: 'first page, unfiltered',
  'by-customer': 'first page, one customer',
  'by-status': 'first page, status confirmed',
};

/** Shorter names for the chart's axis and legend. */
const chartStoreLabel: Record<ReadPathStore, string> = {
  'read-model-sqlite': 'read model · SQLite',
  'read-model-postgres': 'read model · PostgreSQL',
  'temporal-visibility': 'Temporal visibility',
};
const chartQueryLabel: Record<ReadPathQuery, string> = {
  unfiltered: 'unfiltered',
  'by-customer': 'one customer',
  'by-status': 'status confirmed',
};

const workerLayoutLabel: Record<WorkerLayout, string> = {
  combined: 'the four in one process, as `npm start` runs them',
  separate: 'one process per service, as compose deploys them',
};

/** The system's own Node processes, the ones P4 weighs: the service workers, the API and the partners. */
const nodeRoles: ReadonlySet<ProcessRole> = new Set(['worker', 'api', 'partner']);

/** CPU time per completed run over a window, or null when none completed. */
function cpuPerRun(cpuMs: number, completed: number): number | null {
  return completed > 0 ? cpuMs / completed : null;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const right = 'right' as const;
const left = 'left' as const;

function distributionCells(distribution: Distribution | null | undefined): string[] {
  return [ms(distribution?.p50), ms(distribution?.p95), ms(distribution?.p99)];
}

function ratioCells(ratios: PercentileRatios | null | undefined): string[] {
  return [times(ratios?.p50), times(ratios?.p95), times(ratios?.p99)];
}

/** Capitalized and ending with a full stop, for text taken from the result file. */
function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function minMax(values: readonly number[]): [number, number] | null {
  const finite = values.filter((value) => Number.isFinite(value));
  return finite.length === 0 ? null : [Math.min(...finite), Math.max(...finite)];
}

function range(values: readonly number[], format: (value: number) => string): string {
  const bounds = minMax(values);
  if (!bounds) return dash;
  const [low, high] = bounds;
  return format(low) === format(high) ? format(low) : `${format(low)} to ${format(high)}`;
}

// ---------------------------------------------------------------------------
// Sections

function header(result: BenchResult, options: RenderOptions): string {
  const { machine } = result;
  const source = options.source ?? 'bench/results/latest.json';
  return [
    '# Benchmarks',
    '',
    `<!-- Generated by \`npm run bench:report\` from ${source}. Edit bench/report.ts, not this file. -->`,
    '',
    'What the saga design costs over the bare Temporal engine, measured side by side in one run (issue 8). Every',
    'figure below was measured on the machine described next, by the command shown, in the run that started',
    `${result.startedAt} and took ${ms(result.durationMs)}. The machine is shared and noisy: its load average was`,
    `${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(', ')} when the run started and`,
    `${machine.loadAverageAtEnd.map((load) => load.toFixed(2)).join(', ')} when it ended, on ${machine.cpus} cores.`,
    'Absolute figures will differ on another machine and from one run to the next; the **ratios** (saga against the',
    'bare engine, read model against visibility, measured in the same run against the same server) are what carry',
    'over. Re-run it on your machine with the command below.',
  ].join('\n');
}

function machineSection(result: BenchResult): string {
  const { machine } = result;
  const rows: [string, string][] = [
    ['CPU', `${machine.cpuModel} (${machine.cpus} cores)`],
    ['Memory', bytes(machine.memoryBytes)],
    ['OS', `${machine.platform} ${machine.release} (${machine.arch})`],
    ['Node.js', machine.versions.node],
    ['Temporal TypeScript SDK', machine.versions.temporalSdk],
    ['Temporal CLI (dev server)', machine.versions.temporalCli ?? 'unknown'],
    ['Prisma', machine.versions.prisma],
    ['PostgreSQL', machine.versions.postgres ?? 'not part of this run'],
    ['Load average (1, 5, 15 min) at start', machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(', ')],
    ['Load average at end', machine.loadAverageAtEnd.map((load) => load.toFixed(2)).join(', ')],
  ];
  return ['## Machine', '', markdownTable(['', ''], rows)].join('\n');
}

/** The command that renders this report from its files, as a reader would type it. */
function reportCommand(options: RenderOptions): string {
  const args = [
    ...(options.source && options.source !== 'bench/results/latest.json' ? [options.source] : []),
    ...(options.beforeSource ? ['--before', options.beforeSource] : []),
    ...(options.triedSource ? ['--tried', options.triedSource] : []),
  ];
  return args.length === 0 ? 'npm run bench:report' : `npm run bench:report -- ${args.join(' ')}`;
}

function commandSection(result: BenchResult, options: RenderOptions): string {
  const { options: bench } = result;
  const rows: [string, string][] = [
    ['Concurrency levels (orders in flight)', bench.concurrencyLevels.join(', ')],
    ['Per level and mode', `${count(bench.runsPerLevel)} runs or ${ms(bench.levelDeadlineMs)}, whichever first`],
    ['Start-latency samples per mode', count(bench.startLatencySamples)],
    ['Service databases', bench.providers.map((provider) => providerLabel[provider]).join(', ')],
    ['PostgreSQL', bench.postgresUrl ?? 'not given'],
    ['Smoke run', bench.smoke ? 'yes (tiny sizes: not figures to quote)' : 'no'],
    // Files from before the combined host have no layout: their workers ran one process per service.
    ['Service workers', workerLayoutLabel[bench.workerLayout ?? 'separate']],
  ];
  rows.push([
    'Dev server dynamic config',
    result.devServerDynamicConfig
      ? result.devServerDynamicConfig.map((setting) => `\`${setting}\``).join(', ') ||
        "none: the server's defaults (--server-defaults)"
      : "the server's defaults (the file predates deploy/temporal/dynamicconfig.yaml on the dev server)",
  ]);
  // Older result files have no settings.
  const settings = Object.entries(result.settings ?? {});
  if (settings.length > 0) {
    rows.push(['System settings', settings.map(([name, value]) => `\`${name}=${value}\``).join(', ')]);
  }
  return [
    '## Command',
    '',
    '```sh',
    result.command,
    reportCommand(options),
    '```',
    '',
    markdownTable(['Setting', 'Value'], rows),
  ].join('\n');
}

function throughputSection(result: BenchResult, chartsDir: string, hasChart: boolean): string {
  const parts = [
    '## 1. Throughput: the saga against the bare engine',
    '',
    'Completed orders per second through the whole system (`POST /orders` to confirmed: four services, their',
    'databases, the partners), against a bare workflow with the same number of no-op activities on the same dev',
    'server, at each number of runs kept in flight. The ratio is saga / bare.',
  ];
  if (hasChart) parts.push('', `![Throughput against concurrency](${chartsDir}/throughput.svg)`);
  for (const run of result.providers) {
    parts.push('', `### ${providerLabel[run.provider]}`, '');
    if (run.levels.length === 0) {
      parts.push(`No level was measured${run.error ? `: ${run.error}` : '.'}`);
      continue;
    }
    parts.push(
      markdownTable(
        [
          'In flight',
          'Saga orders/s',
          'Bare workflows/s',
          'Ratio',
          'Saga p50',
          'Saga p95',
          'Bare p50',
          'Bare p95',
          'Saga completed / failed / unfinished',
        ],
        run.levels.map((level) => [
          String(level.concurrency),
          perSecond(level.saga.perSecond),
          perSecond(level.bare.perSecond),
          times(level.throughputRatio),
          ms(level.saga.latencyMs.p50),
          ms(level.saga.latencyMs.p95),
          ms(level.bare.latencyMs.p50),
          ms(level.bare.latencyMs.p95),
          `${level.saga.completed} / ${level.saga.failed} / ${level.saga.unfinished}`,
        ]),
        [right, right, right, right, right, right, right, right, right],
      ),
    );
    if (run.error) parts.push('', `This part stopped early: ${run.error}`);
  }
  return parts.join('\n');
}

function startLatencySection(result: BenchResult): string | null {
  const runs = result.providers.filter((run) => run.startLatency);
  if (runs.length === 0) return null;
  const parts = [
    '## 2. Start latency',
    '',
    'One request at a time. `POST /orders` answers 201 once the saga has accepted the order (order row created,',
    'stock reserved); with `Prefer: respond-async` it answers 202 once the run is started. The baseline is a bare',
    '`client.workflow.start` on the same server. Ratios are against that baseline.',
  ];
  for (const run of runs) {
    const latency = run.startLatency;
    if (!latency) continue;
    parts.push(
      '',
      `### ${providerLabel[run.provider]} (${latency.samples} samples per mode)`,
      '',
      markdownTable(
        ['Mode', 'p50', 'p95', 'p99', 'Ratio p50', 'Ratio p95', 'Ratio p99'],
        [
          [
            '`POST /orders` (early return)',
            ...distributionCells(latency.earlyReturn),
            ...ratioCells(latency.earlyReturnVsBare),
          ],
          [
            '`POST /orders` respond-async',
            ...distributionCells(latency.respondAsync),
            ...ratioCells(latency.respondAsyncVsBare),
          ],
          ['bare `client.workflow.start`', ...distributionCells(latency.bareStart), '1×', '1×', '1×'],
        ],
        [left, right, right, right, right, right, right],
      ),
    );
    if (latency.errors.length > 0) parts.push('', `Errors seen: ${latency.errors.join('; ')}`);
  }
  return parts.join('\n');
}

function breakdownRow(label: string, breakdown: HistoryBreakdown | null): string[] {
  if (!breakdown) return [label, dash, dash, dash, dash, dash];
  return [
    label,
    String(breakdown.histories),
    breakdown.activitiesPerRun.toFixed(1),
    percent(breakdown.shares.activityExecution),
    percent(breakdown.shares.activityQueue),
    percent(breakdown.shares.engine),
  ];
}

function endToEndSection(result: BenchResult): string | null {
  const runs = result.providers.filter((run) => run.endToEnd);
  if (runs.length === 0) return null;
  const parts = [
    '## 3. End-to-end latency and where the time goes',
    '',
    "Placement to confirmed at the lowest concurrency (the least queueing). The shares come from the runs'",
    'histories: activity execution (`ActivityTaskStarted` to `Completed`: the service code and its database),',
    'activity queueing (`Scheduled` to `Started`: waiting for a worker) and the engine (the rest of the run:',
    'workflow tasks, persistence, matching).',
  ];
  for (const run of runs) {
    const endToEnd = run.endToEnd;
    if (!endToEnd) continue;
    parts.push(
      '',
      `### ${providerLabel[run.provider]} (${endToEnd.concurrency} in flight)`,
      '',
      markdownTable(
        ['', 'p50', 'p95', 'p99'],
        [
          ['saga', ...distributionCells(endToEnd.saga)],
          ['bare', ...distributionCells(endToEnd.bare)],
          ['ratio saga / bare', ...ratioCells(endToEnd.ratio)],
        ],
        [left, right, right, right],
      ),
      '',
      markdownTable(
        ['Runs', 'Histories read', 'Activities per run', 'Activity execution', 'Activity queueing', 'Engine'],
        [breakdownRow('saga', endToEnd.sagaBreakdown), breakdownRow('bare', endToEnd.bareBreakdown)],
        [left, right, right, right, right, right],
      ),
    );
  }
  return parts.join('\n');
}

function readPathSection(result: BenchResult, chartsDir: string, hasChart: boolean): string | null {
  const readPath = result.readPath;
  if (!readPath) return null;
  // Read models first, visibility (the baseline of the ratios) last, whatever order the file lists them in.
  const stores = (Object.keys(storeLabel) as ReadPathStore[]).filter((store) =>
    readPath.measurements.some((m) => m.store === store),
  );
  const parts = [
    '## 4. Read path: the read model against Temporal visibility',
    '',
    `The first page (${readPath.pageSize} orders, newest first) of the order list: from the read model`,
    "(`listOrders`, what `GET /orders` serves) and from Temporal's visibility list (`client.workflow.list` with",
    `\`CustomerId = "…"\` or \`OrderStatus = "confirmed"\`), over the same orders, ${readPath.customers} customers. The`,
    'read model was seeded through its projection (events stored, each order refolded) with synthetic events;',
    'visibility holds real runs of the order workflow, started with the same search attributes, on a',
    `${readPath.visibility.server}; they were left ${readPath.visibility.executions}, so they count as orders`,
    'in flight. Timing began once visibility counted every run. Each cell is',
    `${readPath.iterations} timed calls after ${readPath.warmup} untimed ones, the stores taking turns. Both are`,
    'called from the benchmark process: the read model straight, visibility over gRPC on loopback; an API adds the',
    'same HTTP hop in front of either. The ratio is visibility / read model: above 1, the read model is faster.',
  ];
  if (hasChart) parts.push('', `![Read path latency](${chartsDir}/read-path.svg)`);
  for (const size of readPath.sizes) {
    const at = readPath.measurements.filter((m) => m.orders === size);
    if (at.length === 0) continue;
    const rows: string[][] = [];
    for (const query of [...new Set(at.map((m) => m.query))]) {
      for (const store of stores) {
        const measurement = at.find((m) => m.query === query && m.store === store);
        if (!measurement) continue;
        const ratio = readPath.ratios.find((r) => r.orders === size && r.query === query && r.readModel === store);
        rows.push([
          queryLabel[query],
          storeLabel[store],
          String(measurement.rows),
          ...distributionCells(measurement.latency),
          ratio ? times(ratio.visibilityOverReadModel.p50) : dash,
          ratio ? times(ratio.visibilityOverReadModel.p99) : dash,
        ]);
      }
    }
    parts.push(
      '',
      `### ${count(size)} orders`,
      '',
      markdownTable(
        ['Query', 'Store', 'Rows', 'p50', 'p95', 'p99', 'Visibility / this, p50', 'Visibility / this, p99'],
        rows,
        [left, left, right, right, right, right, right, right],
      ),
    );
  }
  parts.push(
    '',
    'Seeding (not timed above):',
    '',
    markdownTable(
      ['Store', 'Orders reached', 'Orders added', 'Took'],
      readPath.seeding.map((seed) => [storeLabel[seed.store], count(seed.orders), count(seed.added), ms(seed.ms)]),
      [left, right, right, right],
    ),
  );
  return parts.join('\n');
}

function costSection(result: BenchResult, chartsDir: string, hasChart: boolean): string | null {
  const runs = result.providers.filter((run) => run.levels.length > 0);
  if (runs.length === 0) return null;
  const parts = [
    '## 5. Cost growth: where it saturates, and what each process costs',
    '',
    "CPU is user + system time of each process over the level's window, in cores (1.00 = one core busy the whole",
    `time; this machine has ${result.machine.cpus}) and per confirmed order (the window's CPU time over the orders it`,
    'confirmed); memory is resident memory at the end of the window and at rest after launch. The last row adds up',
    "the system's own Node processes (service workers, API, partners).",
  ];
  if (hasChart) parts.push('', `![Latency against concurrency](${chartsDir}/latency.svg)`);
  for (const run of runs) {
    const highest = run.levels[run.levels.length - 1];
    if (!highest) continue;
    parts.push('', `### ${providerLabel[run.provider]}`, '');
    if (run.saturation) parts.push(sentence(run.saturation.summary), '');
    const idleRss = new Map(run.idle.map((usage) => [usage.name, usage.rssBytes]));
    const { completed } = highest.saga;
    const nodeProcesses = highest.saga.processes.filter((usage) => nodeRoles.has(usage.role));
    const nodeCpuMs = sum(nodeProcesses.map((usage) => usage.cpuMs));
    parts.push(
      `Processes during the saga run at ${highest.concurrency} in flight (${count(completed)} orders confirmed), busiest first:`,
      '',
      markdownTable(
        ['Process', 'Cores', 'CPU per order', 'RSS', 'Peak RSS', 'RSS at rest'],
        [
          ...highest.saga.processes.map((usage) => [
            usage.name,
            cores(usage.cores),
            ms(cpuPerRun(usage.cpuMs, completed)),
            bytes(usage.rssBytes),
            bytes(usage.peakRssBytes),
            bytes(idleRss.get(usage.name)),
          ]),
          [
            'Node processes of the system',
            cores(sum(nodeProcesses.map((usage) => usage.cores))),
            ms(cpuPerRun(nodeCpuMs, completed)),
            bytes(sum(nodeProcesses.map((usage) => usage.rssBytes))),
            dash,
            bytes(sum(run.idle.filter((usage) => nodeRoles.has(usage.role)).map((usage) => usage.rssBytes))),
          ],
        ],
        [left, right, right, right, right, right],
      ),
    );
  }
  return parts.join('\n');
}

function timeSkippingSection(result: BenchResult): string | null {
  const skipping = result.timeSkipping;
  if (!skipping) return null;
  return [
    '## 6. Time skipping',
    '',
    `The workflow tests' longest timer: ${skipping.scenario.charAt(0).toLowerCase()}${skipping.scenario.slice(1)}`,
    `(${skipping.timer}; ${skipping.test}). The same scenario ran on the time-skipping test server with the suite's`,
    "scripted services; simulated time is the run's close time minus its start time on the server's clock, wall",
    `time is \`start()\` to the result on this process's clock. The first run on fresh workers is shown apart.`,
    '',
    markdownTable(
      ['Run', 'Simulated', 'Wall time', 'Simulated / wall'],
      [
        [
          'cold (first on fresh workers)',
          ms(skipping.coldRun.simulatedMs),
          ms(skipping.coldRun.wallMs),
          times(skipping.coldRun.speedup),
        ],
        ...skipping.runs.map((run, index) => [
          String(index + 1),
          ms(run.simulatedMs),
          ms(run.wallMs),
          times(run.speedup),
        ]),
        [
          'p50 of the runs after the cold one',
          ms(skipping.simulatedMs.p50),
          ms(skipping.wallMs.p50),
          times(skipping.speedup),
        ],
      ],
      [left, right, right, right],
    ),
    '',
    `Starting the test server, bundling the workflow and starting the workers took ${ms(skipping.setupMs)}, once.`,
  ].join('\n');
}

function profileSection(result: BenchResult): string | null {
  const profile = result.profile;
  if (!profile) return null;
  return [
    '## Profile of the busiest process',
    '',
    `\`--cpu-prof\` of **${profile.process}** (${profile.why}) for ${ms(profile.durationMs)} at ${profile.concurrency}`,
    `in flight on ${providerLabel[profile.provider]}: ${count(profile.ordersCompleted)} orders completed,`,
    profile.threadProfiles === undefined
      ? `${ms(profile.busyMs)} busy and ${ms(profile.idleMs)} idle (one thread's profile). It is kept at \`${profile.profilePath}\``
      : `${ms(profile.busyMs)} busy and ${ms(profile.idleMs)} idle, summed over its ${profile.threadProfiles} threads ` +
        `(the main thread and the SDK's workflow thread). The main thread's profile is kept at \`${profile.profilePath}\``,
    '(open it in Chrome DevTools, Performance tab).',
    '',
    'Self time by file or package:',
    '',
    markdownTable(
      ['File or package', 'Self time', 'Share of busy time'],
      profile.topFiles.slice(0, 10).map((entry) => [`\`${entry.file}\``, ms(entry.selfMs), percent(entry.selfShare)]),
      [left, right, right],
    ),
    '',
    'Self time by function:',
    '',
    markdownTable(
      ['Function', 'Where', 'Self time', 'Share'],
      profile.topFunctions
        .slice(0, 10)
        .map((entry) => [
          `\`${entry.functionName || '(anonymous)'}\``,
          `\`${entry.file}${entry.line === null ? '' : `:${entry.line}`}\``,
          ms(entry.selfMs),
          percent(entry.selfShare),
        ]),
      [left, left, right, right],
    ),
  ].join('\n');
}

function caveatsSection(result: BenchResult): string | null {
  if (result.skipped.length === 0 && result.notes.length === 0) return null;
  return [
    '## Not measured in this run, and caveats',
    '',
    ...result.skipped.map((part) => `- ${part.part}: ${part.reason}`),
    ...result.notes.map((note) => `- ${note}`),
  ].join('\n');
}

// ---------------------------------------------------------------------------
// What it shows: sentences computed from the figures

function throughputFinding(run: ProviderRun): string | null {
  const best = run.levels.reduce<ProviderRun['levels'][number] | null>(
    (top, level) => (!top || level.saga.perSecond > top.saga.perSecond ? level : top),
    null,
  );
  if (!best) return null;
  const ratios = run.levels.map((level) => level.throughputRatio).filter((r): r is number => r !== null);
  return (
    `On ${providerLabel[run.provider]}, the saga peaked at ${perSecond(best.saga.perSecond)} orders/s ` +
    `(${best.concurrency} in flight), where the bare engine completed ${perSecond(best.bare.perSecond)} workflows/s: ` +
    `the saga ran at ${times(best.throughputRatio)} the engine's floor there, and at ${range(ratios, times)} ` +
    `across the levels.${run.saturation ? ` ${sentence(run.saturation.summary)}` : ''}`
  );
}

/** P4's two figures: the service workers' CPU per confirmed order at the highest level, and memory at rest. */
function costFinding(run: ProviderRun): string | null {
  const highest = run.levels[run.levels.length - 1];
  const idleNode = run.idle.filter((usage) => nodeRoles.has(usage.role));
  if (!highest || idleNode.length === 0) return null;
  const workers = highest.saga.processes.filter((usage) => usage.role === 'worker');
  const workerCpu = cpuPerRun(sum(workers.map((usage) => usage.cpuMs)), highest.saga.completed);
  const idleWorkers = idleNode.filter((usage) => usage.role === 'worker');
  return (
    `On ${providerLabel[run.provider]}, the service workers (${workers.length === 1 ? 'one process' : `${workers.length} processes`}) ` +
    `used ${ms(workerCpu)} of CPU per confirmed order at ${highest.concurrency} in flight; at rest, the system's Node ` +
    `processes held ${bytes(sum(idleNode.map((usage) => usage.rssBytes)))} resident, ` +
    `${bytes(sum(idleWorkers.map((usage) => usage.rssBytes)))} of it the workers'.`
  );
}

function startFinding(run: ProviderRun): string | null {
  const latency = run.startLatency;
  if (!latency || latency.bareStart.p50 === null) return null;
  return (
    `On ${providerLabel[run.provider]}, \`POST /orders\` answered at p50 in ${ms(latency.earlyReturn.p50)} when it ` +
    `waits for acceptance and ${ms(latency.respondAsync.p50)} with respond-async, against ${ms(latency.bareStart.p50)} ` +
    `for a bare start (${times(latency.earlyReturnVsBare.p50)} and ${times(latency.respondAsyncVsBare.p50)}).`
  );
}

function endToEndFinding(run: ProviderRun): string | null {
  const endToEnd = run.endToEnd;
  if (!endToEnd || endToEnd.saga.p50 === null) return null;
  const shares = endToEnd.sagaBreakdown?.shares;
  return (
    `Placement to confirmed took p50 ${ms(endToEnd.saga.p50)} for the saga and ${ms(endToEnd.bare.p50)} for the ` +
    `bare workflow on ${providerLabel[run.provider]} (${times(endToEnd.ratio.p50)})` +
    (shares
      ? `; of the saga's time, ${percent(shares.activityExecution)} went to the services' code and databases, ` +
        `${percent(shares.activityQueue)} to waiting for a worker and ${percent(shares.engine)} to the engine.`
      : '.')
  );
}

function readPathFinding(result: BenchResult): string | null {
  const readPath = result.readPath;
  const size = readPath?.sizes[readPath.sizes.length - 1];
  if (!readPath || size === undefined) return null;
  const at = (store: ReadPathStore) =>
    readPath.measurements.filter((m) => m.orders === size && m.store === store).map((m) => m.latency.p50 ?? Number.NaN);
  const sentences: string[] = [];
  for (const store of ['read-model-sqlite', 'read-model-postgres'] as const) {
    const ratios = readPath.ratios
      .filter((r) => r.orders === size && r.readModel === store)
      .map((r) => r.visibilityOverReadModel.p50)
      .filter((r): r is number => r !== null);
    const bounds = minMax(ratios);
    if (!bounds) continue;
    const verdict =
      bounds[0] >= 1
        ? `the read model was faster by ${range(ratios, times)}`
        : bounds[1] <= 1
          ? `Temporal visibility was faster (visibility / read model ${range(ratios, times)})`
          : `neither was faster on every query (visibility / read model ${range(ratios, times)})`;
    sentences.push(
      `At ${count(size)} orders, the first page from the ${storeLabel[store]} took p50 ${range(at(store), ms)} ` +
        `against ${range(at('temporal-visibility'), ms)} from Temporal visibility, by query: ${verdict}.`,
    );
  }
  const growth = readPathGrowth(readPath.measurements, readPath.sizes);
  if (growth) sentences.push(growth);
  return sentences.length > 0 ? sentences.join(' ') : null;
}

/** Goal P3 of issue 17: at this many orders, the read model's first page this many times faster than visibility. */
export const readPathGoal = { orders: 10_000, ratio: 10 } as const;

/** Whether each read model met goal P3, on every query, at p50 and at p99. */
function readPathGoalFinding(result: BenchResult): string | null {
  const readPath = result.readPath;
  if (!readPath?.sizes.includes(readPathGoal.orders)) return null;
  const verdicts: string[] = [];
  for (const store of ['read-model-sqlite', 'read-model-postgres'] as const) {
    const ratios = readPath.ratios.filter((r) => r.orders === readPathGoal.orders && r.readModel === store);
    if (ratios.length === 0) continue;
    const p50 = ratios.map((r) => r.visibilityOverReadModel.p50 ?? Number.NaN);
    const p99 = ratios.map((r) => r.visibilityOverReadModel.p99 ?? Number.NaN);
    const met = [...p50, ...p99].every((ratio) => Number.isFinite(ratio) && ratio >= readPathGoal.ratio);
    verdicts.push(
      `${storeLabel[store]} p50 ${range(p50, times)}, p99 ${range(p99, times)}: ${met ? 'met' : 'not met'}`,
    );
  }
  if (verdicts.length === 0) return null;
  return (
    `Goal P3, the read model's first page at least ${times(readPathGoal.ratio)} faster than Temporal visibility ` +
    `at ${count(readPathGoal.orders)} orders on every query, p50 and p99: ${verdicts.join('; ')}.`
  );
}

/** How the unfiltered first page's p50 changed from the smallest size to the largest, per store. */
function readPathGrowth(measurements: readonly ReadPathMeasurement[], sizes: readonly number[]): string | null {
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  if (smallest === undefined || largest === undefined || smallest === largest) return null;
  const changes: string[] = [];
  for (const store of [...new Set(measurements.map((m) => m.store))]) {
    const p50 = (size: number) =>
      measurements.find((m) => m.store === store && m.orders === size && m.query === 'unfiltered')?.latency.p50 ?? null;
    const from = p50(smallest);
    const to = p50(largest);
    if (from === null || to === null || from === 0) continue;
    changes.push(`${storeLabel[store]} ${times(to / from)}`);
  }
  return changes.length === 0
    ? null
    : `From ${count(smallest)} to ${count(largest)} orders, the unfiltered page's p50 changed by: ${changes.join(', ')}.`;
}

function timeSkippingFinding(result: BenchResult): string | null {
  const skipping = result.timeSkipping;
  if (!skipping || skipping.wallMs.p50 === null) return null;
  return (
    `The test suite's longest timer (${skipping.timer}) passed ${ms(skipping.simulatedMs.p50)} of workflow time in ` +
    `${ms(skipping.wallMs.p50)} of wall time on the time-skipping server (${times(skipping.speedup)} real time).`
  );
}

function profileFinding(result: BenchResult): string | null {
  const profile = result.profile;
  const top = profile?.topFiles[0];
  if (!profile || !top) return null;
  const fn = profile.topFunctions[0];
  return (
    `The profiled ${profile.process} spent ${percent(top.selfShare)} of its busy time in \`${top.file}\`` +
    (fn ? `; its hottest function was \`${fn.functionName || '(anonymous)'}\` (${percent(fn.selfShare)}).` : '.')
  );
}

function findingsSection(result: BenchResult): string {
  const findings = [
    ...result.providers.flatMap((run) => [
      throughputFinding(run),
      startFinding(run),
      endToEndFinding(run),
      costFinding(run),
    ]),
    readPathFinding(result),
    readPathGoalFinding(result),
    timeSkippingFinding(result),
    profileFinding(result),
  ].filter((finding): finding is string => finding !== null);
  return [
    '## What it shows',
    '',
    ...(findings.length > 0 ? findings.map((finding) => `- ${finding}`) : ['- This run measured nothing to report.']),
    ...(result.options.smoke ? ['', 'This was a smoke run: sizes too small to quote.'] : []),
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Charts

async function throughputChart(result: BenchResult): Promise<string | null> {
  const points: SeriesPoint[] = [];
  for (const run of result.providers) {
    for (const level of run.levels) {
      points.push({
        series: 'saga',
        variant: providerLabel[run.provider],
        x: level.concurrency,
        y: level.saga.perSecond,
      });
      points.push({
        series: 'bare',
        variant: providerLabel[run.provider],
        x: level.concurrency,
        y: level.bare.perSecond,
      });
    }
  }
  if (points.length === 0) return null;
  return renderSvg(
    lineChartSpec({
      title: 'Completed per second against runs in flight',
      seriesTitle: 'runs',
      variantTitle: 'service databases',
      subtitle: `saga orders vs bare workflows, ${result.machine.cpus} cores, ${result.startedAt.slice(0, 10)}`,
      xTitle: 'runs in flight',
      yTitle: 'completed per second',
      points,
      logX: true,
    }),
  );
}

async function latencyChart(result: BenchResult): Promise<string | null> {
  const points: SeriesPoint[] = [];
  for (const run of result.providers) {
    for (const level of run.levels) {
      const { saga, bare } = level;
      if (saga.latencyMs.p50 !== null) {
        points.push({
          series: 'saga',
          variant: providerLabel[run.provider],
          x: level.concurrency,
          y: saga.latencyMs.p50,
        });
      }
      if (bare.latencyMs.p50 !== null) {
        points.push({
          series: 'bare',
          variant: providerLabel[run.provider],
          x: level.concurrency,
          y: bare.latencyMs.p50,
        });
      }
    }
  }
  if (points.length === 0) return null;
  return renderSvg(
    lineChartSpec({
      title: 'Start to completed, p50, against runs in flight',
      seriesTitle: 'runs',
      variantTitle: 'service databases',
      subtitle: 'saga: POST /orders to confirmed; bare: start() to completed',
      xTitle: 'runs in flight',
      yTitle: 'p50 latency (ms)',
      points,
      logX: true,
    }),
  );
}

async function readPathChart(result: BenchResult): Promise<string | null> {
  const readPath = result.readPath;
  const size = readPath?.sizes[readPath.sizes.length - 1];
  if (!readPath || size === undefined) return null;
  const bars: GroupedBar[] = readPath.measurements
    .filter((m) => m.orders === size && m.latency.p50 !== null)
    .map((m) => ({ group: chartQueryLabel[m.query], bar: chartStoreLabel[m.store], value: m.latency.p50 ?? 0 }));
  if (bars.length === 0) return null;
  return renderSvg(
    groupedBarSpec({
      title: `First page of the order list at ${count(size)} orders, p50`,
      subtitle: 'read model (listOrders) vs Temporal visibility (workflow.list)',
      yTitle: 'p50 latency (ms)',
      bars,
      barOrder: (['read-model-sqlite', 'read-model-postgres', 'temporal-visibility'] as const).map(
        (store) => chartStoreLabel[store],
      ),
    }),
  );
}

// ---------------------------------------------------------------------------

export async function renderReport(result: BenchResult, options: RenderOptions = {}): Promise<RenderedReport> {
  const chartsDir = options.chartsDir ?? 'benchmarks';
  const charts: Record<string, string> = {};
  const throughput = await throughputChart(result);
  if (throughput) charts['throughput.svg'] = throughput;
  const latency = await latencyChart(result);
  if (latency) charts['latency.svg'] = latency;
  const readPath = await readPathChart(result);
  if (readPath) charts['read-path.svg'] = readPath;

  const sections = [
    header(result, options),
    findingsSection(result),
    goalsSection(result, options.before ?? null, options.beforeSource),
    options.tried?.trim() ? options.tried.trim() : null,
    machineSection(result),
    commandSection(result, options),
    throughputSection(result, chartsDir, throughput !== null),
    startLatencySection(result),
    endToEndSection(result),
    readPathSection(result, chartsDir, readPath !== null),
    costSection(result, chartsDir, latency !== null),
    timeSkippingSection(result),
    profileSection(result),
    caveatsSection(result),
  ].filter((section): section is string => section !== null);
  // Formatted as `npm run lint` checks it (prettier --check covers docs/).
  const prettierOptions = (await prettier.resolveConfig(path.join(projectRoot, 'docs', 'BENCHMARKS.md'))) ?? {};
  const markdown = await prettier.format(`${sections.join('\n\n')}\n`, { ...prettierOptions, parser: 'markdown' });
  return { markdown, charts };
}

/** The other files a report may draw on: a before run (issue 17's goals) and the notes on what was tried. */
export interface ReportInputs {
  beforeFile?: string;
  triedFile?: string;
}

/** A path as the report names it: project-relative when inside the project. */
function shownPath(file: string): string {
  const relative = path.relative(projectRoot, path.resolve(file));
  return relative.startsWith('..') ? path.resolve(file) : relative;
}

function readResult(file: string): BenchResult {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
}

/** Reads the result file, writes docs/BENCHMARKS.md and docs/benchmarks/*.svg; returns the files written. */
export async function writeReport(
  resultsFile: string,
  docsDir = path.join(projectRoot, 'docs'),
  inputs: ReportInputs = {},
): Promise<string[]> {
  const result = readResult(resultsFile);
  const chartsDir = 'benchmarks';
  const { markdown, charts } = await renderReport(result, {
    chartsDir,
    source: shownPath(resultsFile),
    before: inputs.beforeFile ? readResult(inputs.beforeFile) : null,
    beforeSource: inputs.beforeFile ? shownPath(inputs.beforeFile) : undefined,
    tried: inputs.triedFile ? readFileSync(inputs.triedFile, 'utf8') : null,
    triedSource: inputs.triedFile ? shownPath(inputs.triedFile) : undefined,
  });
  mkdirSync(path.join(docsDir, chartsDir), { recursive: true });
  const written: string[] = [];
  for (const [name, svg] of Object.entries(charts)) {
    const file = path.join(docsDir, chartsDir, name);
    writeFileSync(file, svg);
    written.push(file);
  }
  const markdownFile = path.join(docsDir, 'BENCHMARKS.md');
  writeFileSync(markdownFile, markdown);
  written.push(markdownFile);
  return written;
}

export const reportUsage = `Usage: npm run bench:report [-- [results.json] [--before before.json] [--tried notes.md]]

Renders a result file (default bench/results/latest.json) into docs/BENCHMARKS.md and docs/benchmarks/*.svg.
  --before FILE   a run of the code before the work, for issue 17's goals table (before and after)
  --tried FILE    markdown on what was tried and what it gave, placed after the goals
`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { values, positionals } = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { before: { type: 'string' }, tried: { type: 'string' }, help: { type: 'boolean', default: false } },
    });
    if (values.help || positionals.length > 1) {
      process.stdout.write(reportUsage);
      if (positionals.length > 1) process.exitCode = 2;
    } else {
      const resultsFile = positionals[0] ?? path.join(projectRoot, 'bench', 'results', 'latest.json');
      for (const file of await writeReport(resultsFile, undefined, {
        beforeFile: values.before,
        triedFile: values.tried,
      }))
        process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    }
  } catch (error) {
    process.stderr.write(`bench:report: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
