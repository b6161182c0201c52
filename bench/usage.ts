import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ProcessRole, ProcessUsage } from './results';
import { round } from './stats';

/**
 * CPU time and memory per process of the system under test, read from /proc: utime + stime of /proc/<pid>/stat
 * (clock ticks) and VmRSS of /proc/<pid>/status. Linux only; elsewhere every figure reads 0.
 */

export interface TrackedProcess {
  name: string;
  role: ProcessRole;
  /** Read at every sample: PostgreSQL's backends come and go. */
  pids: () => number[];
}

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time in ms the process has used so far, or undefined once it is gone. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Direct children of `parentPid` whose command line contains every one of `parts` (e.g. the dev server's port). */
export function findChildPids(parentPid: number, parts: string[]): number[] {
  let entries: string[];
  try {
    entries = execFileSync('ls', ['/proc'], { encoding: 'utf8' }).split('\n');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (parts.every((part) => commandLine.includes(part))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export interface UsageWindow {
  /** Ends the window: CPU used and memory per tracked name, busiest first. */
  stop(): ProcessUsage[];
}

/** Starts measuring the given processes; RSS is sampled every `sampleMs` for its peak. */
export function startUsageWindow(processes: readonly TrackedProcess[], sampleMs = 500): UsageWindow {
  const startedAt = performance.now();
  const baseline = new Map<number, number>();
  const peak = new Map<string, number>();
  const seen = new Map<string, Set<number>>();
  const sample = (initial: boolean) => {
    for (const tracked of processes) {
      const pids = tracked.pids();
      const pidSet = seen.get(tracked.name) ?? new Set<number>();
      seen.set(tracked.name, pidSet);
      let rss = 0;
      for (const pid of pids) {
        // A pid first seen mid-window (a new PostgreSQL backend) started within it: all of its CPU time counts.
        if (!baseline.has(pid)) baseline.set(pid, initial ? (cpuTimeMs(pid) ?? 0) : 0);
        pidSet.add(pid);
        rss += rssBytes(pid);
      }
      peak.set(tracked.name, Math.max(peak.get(tracked.name) ?? 0, rss));
    }
  };
  sample(true);
  const timer = setInterval(() => sample(false), sampleMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const wallMs = Math.max(1, performance.now() - startedAt);
      const usages = processes.map((tracked): ProcessUsage => {
        const pids = tracked.pids();
        let cpuMs = 0;
        let rss = 0;
        for (const pid of new Set([...(seen.get(tracked.name) ?? []), ...pids])) {
          const now = cpuTimeMs(pid);
          if (now !== undefined) cpuMs += now - (baseline.get(pid) ?? now);
        }
        for (const pid of pids) rss += rssBytes(pid);
        return {
          name: tracked.name,
          role: tracked.role,
          pids,
          cpuMs: round(cpuMs, 0),
          cores: round(cpuMs / wallMs, 3),
          rssBytes: rss,
          peakRssBytes: Math.max(rss, peak.get(tracked.name) ?? 0),
        };
      });
      return usages.sort((a, b) => b.cpuMs - a.cpuMs);
    },
  };
}
