import type { BenchResult, Distribution, ProcessUsage, ProviderRun } from './results';

/** The readable form of a result on stdout: one table per measurement, the same figures as the JSON. */

function table(headers: string[], rows: (string | number | null)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null ? '–' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [line(cells[0]!), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const ms = (value: number | null) => (value === null ? null : value.toFixed(1));
const percentiles = (d: Distribution) => [ms(d.p50), ms(d.p95), ms(d.p99)];
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

function processTable(processes: ProcessUsage[]): string {
  return table(
    ['process', 'cores', 'cpu ms', 'rss MiB', 'peak MiB'],
    processes.map((usage) => [
      usage.name,
      usage.cores.toFixed(2),
      usage.cpuMs,
      mib(usage.rssBytes),
      mib(usage.peakRssBytes),
    ]),
  );
}

function providerText(run: ProviderRun): string {
  const parts = [
    `=== ${run.provider.toUpperCase()} (launch ${(run.launchMs / 1000).toFixed(1)} s, part ${(run.durationMs / 1000).toFixed(0)} s)`,
  ];
  if (run.error) parts.push(`FAILED: ${run.error}`);
  if (run.levels.length > 0) {
    parts.push(
      '\nThroughput (closed loop; saga = POST /orders to confirmed, bare = 6 no-op activities on the same 4-queue layout)',
      table(
        [
          'in flight',
          'saga/s',
          'bare/s',
          'ratio',
          'saga p50',
          'p95',
          'p99',
          'bare p50',
          'p95',
          'p99',
          'saga ok/failed/open',
        ],
        run.levels.map((level) => [
          level.concurrency,
          level.saga.perSecond,
          level.bare.perSecond,
          level.throughputRatio,
          ...percentiles(level.saga.latencyMs),
          ...percentiles(level.bare.latencyMs),
          `${level.saga.completed}/${level.saga.failed}/${level.saga.unfinished}`,
        ]),
      ),
    );
    parts.push(
      '\nCPU (cores used) per process at each level, saga phase; CPU ms per confirmed order at the highest',
      table(
        ['process', ...run.levels.map((level) => `c=${level.concurrency}`), 'cpu ms/order', 'peak RSS MiB'],
        (run.levels[run.levels.length - 1]?.saga.processes ?? []).map((usage) => [
          usage.name,
          ...run.levels.map(
            (level) => level.saga.processes.find((other) => other.name === usage.name)?.cores.toFixed(2) ?? null,
          ),
          // At the highest level: the window's CPU time over the orders it confirmed.
          run.levels[run.levels.length - 1]!.saga.completed > 0
            ? (usage.cpuMs / run.levels[run.levels.length - 1]!.saga.completed).toFixed(1)
            : null,
          mib(
            Math.max(
              ...run.levels.map((level) => level.saga.processes.find((o) => o.name === usage.name)?.peakRssBytes ?? 0),
            ),
          ),
        ]),
      ),
    );
  }
  if (run.startLatency) {
    const start = run.startLatency;
    parts.push(
      `\nStart latency, ms (${start.samples} sequential samples per mode)`,
      table(
        ['mode', 'p50', 'p95', 'p99', 'p50 vs bare', 'p95 vs bare', 'p99 vs bare'],
        [
          [
            'POST /orders (early return, 201)',
            ...percentiles(start.earlyReturn),
            start.earlyReturnVsBare.p50,
            start.earlyReturnVsBare.p95,
            start.earlyReturnVsBare.p99,
          ],
          [
            'POST /orders respond-async (202)',
            ...percentiles(start.respondAsync),
            start.respondAsyncVsBare.p50,
            start.respondAsyncVsBare.p95,
            start.respondAsyncVsBare.p99,
          ],
          ['client.workflow.start (bare)', ...percentiles(start.bareStart), 1, 1, 1],
        ],
      ),
    );
    if (start.errors.length > 0) parts.push(`errors: ${start.errors.join(' | ')}`);
  }
  if (run.endToEnd) {
    const e2e = run.endToEnd;
    const rows: (string | number | null)[][] = [];
    for (const [name, breakdown] of [
      ['saga', e2e.sagaBreakdown],
      ['bare', e2e.bareBreakdown],
    ] as const) {
      if (!breakdown) continue;
      rows.push([
        name,
        breakdown.histories,
        breakdown.activitiesPerRun,
        ms(breakdown.totalMs.p50),
        pct(breakdown.shares.activityExecution),
        pct(breakdown.shares.activityQueue),
        pct(breakdown.shares.engine),
      ]);
    }
    parts.push(
      `\nEnd to end at ${e2e.concurrency} in flight: saga p50/p95/p99 ${percentiles(e2e.saga).join('/')} ms, ` +
        `bare ${percentiles(e2e.bare).join('/')} ms, ratio ${e2e.ratio.p50}/${e2e.ratio.p95}/${e2e.ratio.p99}`,
      'Where a run spends its time (from the histories: started -> completed)',
      table(['run', 'histories', 'activities', 'p50 ms', 'in activities', 'queued', 'engine'], rows),
    );
    const eventTypes = [
      ...new Set([
        ...Object.keys(e2e.sagaBreakdown?.eventsPerRun ?? {}),
        ...Object.keys(e2e.bareBreakdown?.eventsPerRun ?? {}),
      ]),
    ];
    if (eventTypes.length > 0) {
      parts.push(
        'History events per run, by type (mean)',
        table(
          ['event type', 'saga', 'bare'],
          eventTypes.map((type) => [
            type,
            e2e.sagaBreakdown?.eventsPerRun?.[type] ?? 0,
            e2e.bareBreakdown?.eventsPerRun?.[type] ?? 0,
          ]),
        ),
      );
    }
  }
  if (run.saturation) parts.push(`\nSaturation: ${run.saturation.summary}`);
  if (run.idle.length > 0) parts.push('\nAt rest after launch', processTable(run.idle));
  return parts.join('\n');
}

export function resultText(result: BenchResult): string {
  const { machine } = result;
  const parts = [
    `\nBenchmark ${result.startedAt}: ${result.command} (${(result.durationMs / 1000).toFixed(0)} s)`,
    `${machine.cpus} × ${machine.cpuModel}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, load average ` +
      `${machine.loadAverageAtStart.join(' ')} at start, ${machine.loadAverageAtEnd.join(' ')} at end; Node ${machine.versions.node}, ` +
      `Temporal SDK ${machine.versions.temporalSdk}, ${machine.versions.temporalCli ?? 'Temporal CLI (version unknown)'}` +
      (machine.versions.postgres ? `, PostgreSQL ${machine.versions.postgres}` : ''),
  ];
  for (const run of result.providers) parts.push('', providerText(run));
  if (result.profile) {
    const profile = result.profile;
    parts.push(
      `\nCPU profile of ${profile.process} (${profile.why}): ${profile.ordersCompleted} orders in ` +
        `${(profile.durationMs / 1000).toFixed(0)} s, ${profile.busyMs} ms busy, ${profile.idleMs} ms idle over ${profile.threadProfiles ?? 1} thread(s); ${profile.profilePath}`,
      table(
        ['self', 'share', 'function', 'where'],
        profile.topFunctions.map((entry) => [
          `${entry.selfMs.toFixed(0)} ms`,
          pct(entry.selfShare),
          entry.functionName,
          `${entry.file}${entry.line ? `:${entry.line}` : ''}`,
        ]),
      ),
      '',
      table(
        ['self', 'share', 'file or package'],
        profile.topFiles.map((entry) => [`${entry.selfMs.toFixed(0)} ms`, pct(entry.selfShare), entry.file]),
      ),
    );
  }
  if (result.readPath) {
    parts.push(
      '\nRead path: Temporal visibility list latency / read model latency (first page; above 1, the read model is faster)',
      table(
        ['orders', 'query', 'read model', 'p50', 'p95', 'p99'],
        result.readPath.ratios.map((entry) => [
          entry.orders,
          entry.query,
          entry.readModel,
          entry.visibilityOverReadModel.p50,
          entry.visibilityOverReadModel.p95,
          entry.visibilityOverReadModel.p99,
        ]),
      ),
    );
  }
  if (result.timeSkipping) {
    const skipping = result.timeSkipping;
    parts.push(
      `\nTime skipping (${skipping.scenario}): ${skipping.timer} timer, wall p50 ${ms(skipping.wallMs.p50)} ms, ` +
        `speed-up ×${Math.round(skipping.speedup)}`,
    );
  }
  for (const skipped of result.skipped) parts.push(`skipped ${skipped.part}: ${skipped.reason}`);
  for (const note of result.notes) parts.push(`note: ${note}`);
  return parts.join('\n');
}
