import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { bareWorkflowId, bareWorkflowTaskQueue, bareWorkflowType } from './bare/queues';
import { historyBreakdown } from './history';
import { runClosedLoop, waitForClose, type LoadOutcome } from './load';
import type { RunnerOptions } from './options';
import { createOrderSource, placeOrder, type OrderSource } from './orders';
import { monotonicMicros, summarizeCpuProfile } from './profile';
import type {
  CpuProfileSummary,
  DatabaseProvider,
  EndToEndLatency,
  LoadRun,
  ProcessUsage,
  ProviderRun,
  Saturation,
  StartLatency,
  ThroughputLevel,
} from './results';
import { distribution, percentileRatios, ratio, round } from './stats';
import { launchSystem, type System } from './system';
import { startUsageWindow } from './usage';

export type Progress = (line: string) => void;

/** Histories read per level and mode for the time breakdown: enough for a distribution, cheap to fetch. */
const historiesPerLevel = 30;
/** Reading them never holds the run up longer than this (the breakdown is then left out). */
const historyDeadlineMs = 30_000;
/** Orders kept back from the stock for the phases after the levels (start latency comes first anyway). */
const stockReserve = 50;

interface Context {
  system: System;
  options: RunnerOptions;
  source: OrderSource;
  runTag: string;
  progress: Progress;
  bareStarted: number;
}

function startBare(context: Context): Promise<string> {
  const workflowId = bareWorkflowId(context.runTag, context.bareStarted);
  context.bareStarted += 1;
  return context.system.client.workflow
    .start(bareWorkflowType, { taskQueue: bareWorkflowTaskQueue, workflowId, args: [] })
    .then(() => workflowId);
}

function startSaga(context: Context): Promise<string> {
  return placeOrder(context.system.apiUrl, context.source, 'early-return').then((placement) => placement.workflowId);
}

async function measureLoad(
  context: Context,
  label: string,
  concurrency: number,
  maxRuns: number,
  start: () => Promise<string>,
  deadlineMs = context.options.levelDeadlineMs,
): Promise<{ outcome: LoadOutcome; processes: ProcessUsage[] }> {
  const { system, options, progress } = context;
  let lastPrinted = 0;
  const window = startUsageWindow(system.processes);
  const outcome = await runClosedLoop({
    concurrency,
    maxRuns,
    deadlineMs,
    drainMs: options.drainMs,
    start,
    client: system.client,
    namespace: system.namespace,
    onProgress: (finished, elapsedMs) => {
      if (elapsedMs - lastPrinted < 5_000) return;
      lastPrinted = elapsedMs;
      progress(`  ${label}: ${finished}/${maxRuns} finished after ${(elapsedMs / 1000).toFixed(0)} s`);
    },
  });
  return { outcome, processes: window.stop() };
}

async function toLoadRun(
  context: Context,
  { outcome, processes }: { outcome: LoadOutcome; processes: ProcessUsage[] },
): Promise<LoadRun> {
  const ids = outcome.completed.map((run) => run.workflowId);
  return {
    completed: outcome.completed.length,
    failed: outcome.failed,
    unfinished: outcome.unfinished,
    durationMs: round(outcome.durationMs, 0),
    perSecond: outcome.durationMs > 0 ? round((outcome.completed.length * 1000) / outcome.durationMs, 2) : 0,
    hitDeadline: outcome.hitDeadline,
    latencyMs: distribution(outcome.completed.map((run) => run.latencyMs)),
    breakdown: await Promise.race([
      historyBreakdown(context.system.client, ids, historiesPerLevel).catch(() => null),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), historyDeadlineMs).unref()),
    ]),
    processes,
    errors: outcome.errors,
  };
}

async function measureStartLatency(context: Context): Promise<StartLatency> {
  const { options, system, progress } = context;
  const samples = Math.min(options.startLatencySamples, Math.floor((context.source.remaining() - stockReserve) / 2));
  const times = { bare: [] as number[], async: [] as number[], early: [] as number[] };
  let earlyReturnPending = 0;
  const errors: string[] = [];
  const opened: string[] = [];
  const timed = async (into: number[], start: () => Promise<string>) => {
    const sentAt = performance.now();
    try {
      opened.push(await start());
      into.push(performance.now() - sentAt);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (errors.length < 5 && !errors.includes(message)) errors.push(message);
    }
  };
  progress(`start latency: ${samples} sequential starts per mode, the modes interleaved`);
  // Interleaved, so a burst of noise on the shared machine hits all three modes alike.
  for (let sample = 0; sample < samples; sample += 1) {
    await timed(times.bare, () => startBare(context));
    await timed(times.async, async () => {
      const placement = await placeOrder(system.apiUrl, context.source, 'respond-async');
      return placement.workflowId;
    });
    await timed(times.early, async () => {
      const placement = await placeOrder(system.apiUrl, context.source, 'early-return');
      if (placement.status === 202) earlyReturnPending += 1;
      return placement.workflowId;
    });
  }
  // Let these runs finish, so they do not weigh on the first level.
  const deadline = Date.now() + options.drainMs + 30_000;
  await Promise.all(
    opened.map((id) => waitForClose(system.client, system.namespace, id, deadline).catch(() => 'failed')),
  );
  const bareStart = distribution(times.bare);
  const earlyReturn = distribution(times.early);
  const respondAsync = distribution(times.async);
  return {
    samples,
    earlyReturn,
    earlyReturnPending,
    respondAsync,
    bareStart,
    earlyReturnVsBare: percentileRatios(earlyReturn, bareStart),
    respondAsyncVsBare: percentileRatios(respondAsync, bareStart),
    errors,
  };
}

const overheadRoles = new Set(['bench', 'bare-worker']);

/** The system's processes' cost, not the load generator's nor the idle bare workers'. */
function systemProcesses(processes: ProcessUsage[]): ProcessUsage[] {
  return processes.filter((usage) => !overheadRoles.has(usage.role));
}

export function findSaturation(levels: ThroughputLevel[]): Saturation | null {
  const highest = levels[levels.length - 1];
  if (!highest) return null;
  let saturatedAt: number | null = null;
  for (let index = 1; index < levels.length && saturatedAt === null; index += 1) {
    if (levels[index]!.saga.perSecond < levels[index - 1]!.saga.perSecond * 1.1)
      saturatedAt = levels[index]!.concurrency;
  }
  const peak = levels.reduce((best, level) => (level.saga.perSecond > best.saga.perSecond ? level : best), highest);
  const busy = systemProcesses(highest.saga.processes);
  const busiest = busy[0];
  const busiestNode = busy.find((usage) => ['worker', 'api', 'partner'].includes(usage.role));
  const systemCores = round(
    busy.reduce((sum, usage) => sum + usage.cores, 0),
    2,
  );
  const growth =
    saturatedAt === null
      ? `saga throughput still grew at ${highest.concurrency} in flight`
      : `saga throughput stops growing (< +10%) at ${saturatedAt} in flight`;
  return {
    saturatedAtConcurrency: saturatedAt,
    peakPerSecond: peak.saga.perSecond,
    peakAtConcurrency: peak.concurrency,
    busiestProcess: busiest?.name ?? 'unknown',
    busiestProcessCores: busiest?.cores ?? 0,
    busiestNodeProcess: busiestNode?.name ?? 'workers',
    systemCores,
    summary:
      `${growth}; at ${highest.concurrency} in flight the system uses ${systemCores} cores, ` +
      `the most ${busiest?.name ?? '?'} (${busiest?.cores ?? 0} cores)` +
      (busiestNode && busiestNode !== busiest
        ? `, the busiest Node process ${busiestNode.name} (${busiestNode.cores})`
        : ''),
  };
}

async function profileBusiest(
  context: Context,
  provider: DatabaseProvider,
  saturation: Saturation,
  concurrency: number,
  resultPrefix: string,
): Promise<CpuProfileSummary> {
  const { system, options, progress } = context;
  const target = saturation.busiestNodeProcess;
  const dir = mkdtempSync(path.join(tmpdir(), 'order-saga-bench-profile-'));
  try {
    progress(`profile: restarting ${target} with --cpu-prof`);
    await system.restart(target, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const maxRuns = Math.max(0, context.source.remaining() - stockReserve);
    progress(`profile: ${concurrency} orders in flight for ${options.profileDurationMs / 1000} s`);
    const fromUs = monotonicMicros();
    const { outcome } = await measureLoad(
      context,
      `profile c=${concurrency}`,
      concurrency,
      maxRuns,
      () => startSaga(context),
      options.profileDurationMs,
    );
    const toUs = monotonicMicros();
    // A graceful stop: V8 writes the profile as the process exits.
    await system.stopProcess(target);
    // One file per thread: the main thread's (activities, databases, the SDK's bridge) and the workflow thread's.
    // Named CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: the main thread (id 0) first.
    const threadId = (file: string) => Number(file.split('.')[4] ?? 0);
    const written = readdirSync(dir)
      .filter((file) => file.endsWith('.cpuprofile'))
      .sort((a, b) => threadId(a) - threadId(b));
    if (written.length === 0) throw new Error(`${target} wrote no .cpuprofile (did it exit gracefully?)`);
    const keptPrefix = `${resultPrefix}-${provider}-${target.replace(/[^a-z0-9-]/gi, '_')}`;
    const kept = written.map((file, thread) => {
      const copy = thread === 0 ? `${keptPrefix}.cpuprofile` : `${keptPrefix}-thread${thread}.cpuprofile`;
      copyFileSync(path.join(dir, file), copy);
      return copy;
    });
    const summary = summarizeCpuProfile(kept, 15, { fromUs, toUs });
    return {
      process: target,
      why:
        `the busiest Node process at ${concurrency} in flight on ${provider} ` +
        `(${saturation.busiestProcess === target ? 'and the busiest of all' : `the busiest of all is ${saturation.busiestProcess}, not profiled with --cpu-prof`})`,
      provider,
      concurrency,
      durationMs: round(outcome.durationMs, 0),
      ordersCompleted: outcome.completed.length,
      ...summary,
      profilePath: path.relative(process.cwd(), kept[0]!),
      threadProfiles: kept.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ProviderOptions {
  provider: DatabaseProvider;
  options: RunnerOptions;
  runTag: string;
  progress: Progress;
  /** Profile the busiest Node process of this provider's system; the .cpuprofile goes to `<resultPrefix>-…`. */
  profile: boolean;
  resultPrefix: string;
  /** Set once the system is up, so an interrupt can stop it. */
  onSystem: (system: System | undefined) => void;
}

export async function measureProvider({
  provider,
  options,
  runTag,
  progress,
  profile,
  resultPrefix,
  onSystem,
}: ProviderOptions): Promise<{
  run: ProviderRun;
  profile: CpuProfileSummary | null;
  profileError: string | null;
  settings: Record<string, string>;
}> {
  const began = performance.now();
  const run: ProviderRun = {
    provider,
    durationMs: 0,
    launchMs: 0,
    levels: [],
    startLatency: null,
    endToEnd: null,
    saturation: null,
    idle: [],
    error: null,
  };
  let profileSummary: CpuProfileSummary | null = null;
  let profileError: string | null = null;
  let settings: Record<string, string> = {};
  progress(`${provider}: launching the system`);
  let system: System | undefined;
  try {
    system = await launchSystem({
      provider,
      postgresAdminUrl: options.postgresAdminUrl,
      progress: (line) => progress(`  ${line}`),
      verbose: options.verbose,
      workerLayout: options.workerLayout,
      eagerActivities: options.eagerActivities,
      serverDefaults: options.serverDefaults,
    });
    onSystem(system);
    settings = system.settings;
    run.launchMs = round(performance.now() - began, 0);
    progress(`${provider}: system up in ${(run.launchMs / 1000).toFixed(1)} s`);
    const idleWindow = startUsageWindow(system.processes);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    run.idle = idleWindow.stop();

    const thresholdCents = loadConfig().approval.thresholdCents;
    const context: Context = {
      system,
      options,
      source: createOrderSource(`${runTag}-${provider}`, thresholdCents),
      runTag: `${runTag}-${provider}`,
      progress,
      bareStarted: 0,
    };
    progress(`${provider}: warming up (a few runs of each, not counted)`);
    await measureLoad(context, 'warm-up saga', 2, 6, () => startSaga(context), 30_000);
    await measureLoad(context, 'warm-up bare', 2, 6, () => startBare(context), 30_000);

    run.startLatency = await measureStartLatency(context);

    for (const concurrency of options.concurrencyLevels) {
      const sagaRuns = Math.min(options.runsPerLevel, Math.max(0, context.source.remaining() - stockReserve));
      if (sagaRuns < options.runsPerLevel) {
        progress(`  only ${sagaRuns} orders' worth of stock left for this level`);
      }
      progress(
        `${provider}: ${concurrency} in flight: saga (up to ${sagaRuns} orders or ${options.levelDeadlineMs / 1000} s)`,
      );
      const saga = await toLoadRun(
        context,
        await measureLoad(context, `saga c=${concurrency}`, concurrency, sagaRuns, () => startSaga(context)),
      );
      progress(`${provider}: ${concurrency} in flight: bare workflow`);
      const bare = await toLoadRun(
        context,
        await measureLoad(context, `bare c=${concurrency}`, concurrency, options.runsPerLevel, () =>
          startBare(context),
        ),
      );
      run.levels.push({
        concurrency,
        saga,
        bare,
        throughputRatio: ratio(saga.perSecond, bare.perSecond),
        latencyRatio: percentileRatios(saga.latencyMs, bare.latencyMs),
      });
      progress(
        `  saga ${saga.perSecond}/s (p50 ${saga.latencyMs.p50} ms), bare ${bare.perSecond}/s (p50 ${bare.latencyMs.p50} ms), ` +
          `ratio ${ratio(saga.perSecond, bare.perSecond)}`,
      );
    }
    const lowest = run.levels[0];
    if (lowest) {
      const endToEnd: EndToEndLatency = {
        concurrency: lowest.concurrency,
        saga: lowest.saga.latencyMs,
        bare: lowest.bare.latencyMs,
        ratio: lowest.latencyRatio,
        sagaBreakdown: lowest.saga.breakdown,
        bareBreakdown: lowest.bare.breakdown,
      };
      run.endToEnd = endToEnd;
    }
    run.saturation = findSaturation(run.levels);
    if (profile && run.saturation) {
      const highest = run.levels[run.levels.length - 1]!.concurrency;
      try {
        profileSummary = await profileBusiest(context, provider, run.saturation, highest, resultPrefix);
      } catch (error) {
        profileError = error instanceof Error ? error.message : String(error);
        progress(`profile failed: ${profileError}`);
      }
    }
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
    progress(`${provider}: failed: ${run.error}`);
    if (system) {
      for (const name of system.nodeProcessNames) {
        const lines = system.lastLines(name);
        if (lines.length > 0) progress(`  last lines of ${name}:\n    ${lines.slice(-8).join('\n    ')}`);
      }
    }
  } finally {
    progress(`${provider}: stopping the system`);
    await system?.stop();
    onSystem(undefined);
    run.durationMs = round(performance.now() - began, 0);
  }
  return { run, profile: profileSummary, profileError, settings };
}
