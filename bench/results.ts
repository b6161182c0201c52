/**
 * The shape of one benchmark run's result file (bench/results/<timestamp>.json and bench/results/latest.json), as
 * written by `npm run bench` and read by `npm run bench:report`. Fields are only ever added, never renamed or removed:
 * old result files must keep rendering.
 *
 * Units: durations in milliseconds (`…Ms`), memory in bytes (`…Bytes`), rates per second (`perSecond`). Every ratio
 * is saga / bare, measured in the same run against the same dev server, so a ratio of 0.25 means the saga completes a
 * quarter as many orders per second as the bare engine completes workflows.
 */
import type { ReadPathResult } from './read-path';
import type { TimeSkippingResult } from './time-skipping';

export const resultFormatVersion = 1;

export type DatabaseProvider = 'sqlite' | 'postgres';

/** The service workers as `npm start` runs them, four in one process (`combined`), or one process each (`separate`). */
export type WorkerLayout = 'combined' | 'separate';

/** A latency (or any duration) distribution in milliseconds; all fields null when there were no samples. */
export interface Distribution {
  count: number;
  min: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** p50/p95/p99 of one distribution divided by another's (null where either side had no samples). */
export interface PercentileRatios {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** What the run was asked to do, after defaults were applied. */
export interface BenchOptions {
  smoke: boolean;
  /** In-flight orders (and bare workflows) kept at each level, in order. */
  concurrencyLevels: number[];
  /** Per level and mode: stop after this many completed runs... */
  runsPerLevel: number;
  /** ...or after this long, whichever comes first. */
  levelDeadlineMs: number;
  /** Sequential requests per start-latency mode. */
  startLatencySamples: number;
  providers: DatabaseProvider[];
  /** The PostgreSQL admin URL with its password replaced by ***; null when PostgreSQL was not given. */
  postgresUrl: string | null;
  profile: boolean;
  profileDurationMs: number;
  readPath: boolean;
  /** Sizes given to the read-path measurement; null: its own default. */
  readPathSizes: number[] | null;
  /** Visibility seeded only up to this many orders (--visibility-up-to); absent or null: every size. */
  visibilityUpTo?: number | null;
  timeSkipping: boolean;
  /** The throughput, latency and cost runs of the whole system, per provider: off with --only read-path (absent = on, files before it). */
  system?: boolean;
  /** How the service workers ran; absent in files from before the combined host, whose workers ran `separate`. */
  workerLayout?: WorkerLayout;
  /** The dev server ran with its own defaults, not deploy/temporal/dynamicconfig.yaml (absent: files before the option). */
  serverDefaults?: boolean;
}

export interface MachineInfo {
  hostname: string;
  platform: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  /** os.loadavg() when the run started and when it ended: a busy machine shows here. */
  loadAverageAtStart: [number, number, number];
  loadAverageAtEnd: [number, number, number];
  versions: {
    node: string;
    temporalSdk: string;
    /** `temporal --version` of the dev server used, or null if it could not be asked. */
    temporalCli: string | null;
    prisma: string;
    /** `SHOW server_version`, or null when PostgreSQL was not part of the run. */
    postgres: string | null;
  };
}

/** A part of the run that did not happen, and why (e.g. no PostgreSQL URL given, --skip-read-path). */
export interface SkippedPart {
  part: 'postgres' | 'profile' | 'read-path' | 'time-skipping' | 'system';
  reason: string;
}

export type ProcessRole = 'temporal-server' | 'worker' | 'bare-worker' | 'api' | 'partner' | 'postgres' | 'bench';

/** One process's cost over a measured window, from /proc/<pid>/stat (utime + stime) and /proc/<pid>/status (VmRSS). */
export interface ProcessUsage {
  /** e.g. temporal-server, workers (or worker:orders…), bare-workers, api, gateway, carrier, postgres, bench. */
  name: string;
  role: ProcessRole;
  /** The pids summed under this name (PostgreSQL: every backend connected to the run's databases, plus the rest). */
  pids: number[];
  /** CPU time (user + system) spent during the window. */
  cpuMs: number;
  /** cpuMs / window wall time: 1 means one core fully busy; this machine has MachineInfo.cpus of them. */
  cores: number;
  /** Resident memory at the end of the window, and the highest value sampled during it. */
  rssBytes: number;
  peakRssBytes: number;
}

/**
 * Where a run's time went, from its history's event timestamps, summed over its activities:
 * - activityQueue: ActivityTaskScheduled -> ActivityTaskStarted (waiting in the task queue for a worker slot/poll),
 * - activityExecution: ActivityTaskStarted -> ActivityTaskCompleted (the service's code and its database),
 * - engine: the rest of WorkflowExecutionStarted -> WorkflowExecutionCompleted (workflow tasks, persistence, matching).
 */
export interface HistoryBreakdown {
  /** Histories read (a bounded sample of the runs of that level). */
  histories: number;
  /** Activities per run (mean): 6 for the saga (two on orders, two on inventory, payments, shipping). */
  activitiesPerRun: number;
  totalMs: Distribution;
  activityQueueMs: Distribution;
  activityExecutionMs: Distribution;
  engineMs: Distribution;
  /** Mean share of each run's total (the three add up to 1). */
  shares: { activityQueue: number; activityExecution: number; engine: number };
  /**
   * History events per run (mean) by event type, e.g. `UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: 6`: each is written by the
   * server, and each workflow task or upsert costs it more (visibility writes too). Absent in older result files.
   */
  eventsPerRun?: Record<string, number>;
}

/** One mode (saga or bare) at one concurrency level. */
export interface LoadRun {
  /** Runs that completed as intended (saga: confirmed; bare: completed). */
  completed: number;
  /** Runs that ended otherwise, or errors starting them (counted, never retried). */
  failed: number;
  /** Runs still in flight when the level's deadline passed (abandoned, not counted as completed). */
  unfinished: number;
  /** Wall time from the first start to the last completion counted. */
  durationMs: number;
  /** completed / durationMs. */
  perSecond: number;
  /** True if the level stopped at its deadline rather than at runsPerLevel. */
  hitDeadline: boolean;
  /** As the client sees it: saga from POST /orders sent to the run completed; bare from start() called to completed. */
  latencyMs: Distribution;
  breakdown: HistoryBreakdown | null;
  /** Every process of the system during this window, busiest first. */
  processes: ProcessUsage[];
  /** Up to 5 distinct error messages, for diagnosis. */
  errors: string[];
}

export interface ThroughputLevel {
  concurrency: number;
  saga: LoadRun;
  bare: LoadRun;
  /** saga.perSecond / bare.perSecond. */
  throughputRatio: number | null;
  /** saga.latencyMs / bare.latencyMs, by percentile. */
  latencyRatio: PercentileRatios;
}

export interface StartLatency {
  /** Sequential requests per mode (one in flight at a time, so this is latency, not queueing). */
  samples: number;
  /** POST /orders without Prefer: answers 201 once the saga has accepted the order (after reserve-stock). */
  earlyReturn: Distribution;
  /** Of those, answered 202 because the acceptance took longer than the API waits (5 s): a sign of overload. */
  earlyReturnPending: number;
  /** POST /orders with Prefer: respond-async: 202 once the run is started. */
  respondAsync: Distribution;
  /** client.workflow.start of the bare workflow on the same server. */
  bareStart: Distribution;
  earlyReturnVsBare: PercentileRatios;
  respondAsyncVsBare: PercentileRatios;
  errors: string[];
}

/** Placement to confirmed, at the lowest concurrency level (the least queueing), with its breakdown. */
export interface EndToEndLatency {
  concurrency: number;
  saga: Distribution;
  bare: Distribution;
  ratio: PercentileRatios;
  sagaBreakdown: HistoryBreakdown | null;
  bareBreakdown: HistoryBreakdown | null;
}

/** Where throughput stops growing and which process is the bottleneck. */
export interface Saturation {
  /** The first level whose saga throughput grew less than 10% over the previous one; null if it kept growing. */
  saturatedAtConcurrency: number | null;
  /** The saga's best throughput over all levels, and the level it was reached at. */
  peakPerSecond: number;
  peakAtConcurrency: number;
  /** The process with the most CPU at the highest level, and its cores used there. */
  busiestProcess: string;
  busiestProcessCores: number;
  /** The busiest Node process at the highest level (the one the profile targets). */
  busiestNodeProcess: string;
  /** Cores used by all of the system's processes together at the highest level, of MachineInfo.cpus. */
  systemCores: number;
  /** A sentence a reader can take away, e.g. "throughput stops growing at 16 in flight; temporal-server uses 0.9 cores". */
  summary: string;
}

/** One database provider's part of the run: the whole system launched fresh on its databases. */
export interface ProviderRun {
  provider: DatabaseProvider;
  /** Wall time of this part, launch and teardown included. */
  durationMs: number;
  /** Time to launch the system (dev server, partners, 4 service workers, 4 bare workers, API). */
  launchMs: number;
  levels: ThroughputLevel[];
  startLatency: StartLatency | null;
  endToEnd: EndToEndLatency | null;
  saturation: Saturation | null;
  /** Processes at rest after launch, before any load (the memory floor). */
  idle: ProcessUsage[];
  /** Set if this part failed part-way: what was measured before is kept. */
  error: string | null;
}

export interface ProfileEntry {
  functionName: string;
  /** Project-relative path, node:… for Node's internals, or (program)/(garbage collector)/(idle). */
  file: string;
  line: number | null;
  selfMs: number;
  /** selfMs / all sampled time except (idle). */
  selfShare: number;
}

export interface ProfileFileEntry {
  /** A project file, or a package name for node_modules (e.g. @temporalio/worker), or node: internals. */
  file: string;
  selfMs: number;
  selfShare: number;
}

export interface CpuProfileSummary {
  /** The profiled process (e.g. worker:orders) and why it was chosen. */
  process: string;
  why: string;
  provider: DatabaseProvider;
  concurrency: number;
  durationMs: number;
  ordersCompleted: number;
  /** True when only the samples taken under load were counted (the process's start-up left out). */
  loadWindowOnly: boolean;
  /** Sampled time excluding (idle). */
  busyMs: number;
  idleMs: number;
  /** Self time by function, top 15. */
  topFunctions: ProfileEntry[];
  /** Self time by file or package, top 15. */
  topFiles: ProfileFileEntry[];
  /**
   * Where the main thread's .cpuprofile was kept (bench/results/…), to open in Chrome DevTools; the other threads'
   * (the SDK's workflow thread) beside it, named `…-thread<n>.cpuprofile`.
   */
  profilePath: string;
  /** Threads profiled and summed above (absent in older result files, which counted one thread only). */
  threadProfiles?: number;
}

export interface BenchResult {
  formatVersion: typeof resultFormatVersion;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** The exact command, e.g. "npm run bench -- --levels 1,4". */
  command: string;
  options: BenchOptions;
  machine: MachineInfo;
  /** The first entry is SQLite; PostgreSQL follows when a URL was given. */
  providers: ProviderRun[];
  skipped: SkippedPart[];
  profile: CpuProfileSummary | null;
  readPath: ReadPathResult | null;
  timeSkipping: TimeSkippingResult | null;
  /**
   * The settings the system ran with that change its cost (LOG_LEVEL, API_AUTH, PAYLOAD_ENCRYPTION,
   * OTEL_TRACES_EXPORTER), as its processes saw them.
   */
  settings: Record<string, string>;
  /** The dev server's `--dynamic-config-value` settings (deploy/temporal/dynamicconfig.yaml); absent in files from before. */
  devServerDynamicConfig?: string[];
  /** Caveats found during the run (e.g. a high load average, runs that failed). */
  notes: string[];
}
