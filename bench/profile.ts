import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/project-root';
import type { ProfileEntry, ProfileFileEntry } from './results';
import { round } from './stats';

/** The parts of V8's .cpuprofile format (Chrome DevTools protocol, Profiler.Profile) read here. */
interface CpuProfile {
  /** Microseconds on the monotonic clock (CLOCK_MONOTONIC on Linux, as process.hrtime in any process). */
  startTime: number;
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const pseudoFunctions = new Set(['(program)', '(garbage collector)', '(idle)', '(root)']);

/** Project files by their relative path, node_modules by package name, Node's internals as node:… */
export function fileLabel(url: string, functionName: string): string {
  if (url === '') return pseudoFunctions.has(functionName) ? functionName : '(native)';
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope = '', name = ''] = file.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  return file.startsWith(projectRoot) ? path.relative(projectRoot, file) : file;
}

export interface ProfileSummary {
  /** Whether only the samples within the load window were counted (false: the whole life of the process). */
  loadWindowOnly: boolean;
  busyMs: number;
  idleMs: number;
  topFunctions: ProfileEntry[];
  topFiles: ProfileFileEntry[];
}

/** Now on the clock V8's profiles use, in microseconds. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time by function and by file or package, top `top` of each, shares of the non-idle time, over every thread's
 * profile of the process. With a window
 * (monotonicMicros() before and after the load), only the samples taken under load count, not the process's start.
 */
export function summarizeCpuProfile(
  files: string | readonly string[],
  top = 15,
  window?: { fromUs: number; toUs: number },
): ProfileSummary {
  // One file per thread (`--cpu-prof` writes the main thread's and each worker thread's, e.g. the SDK's workflow
  // thread): the process's time is their sum.
  const profiles = (typeof files === 'string' ? [files] : files).map(
    (file) => JSON.parse(readFileSync(file, 'utf8')) as CpuProfile,
  );
  const tally = (within: (atUs: number) => boolean) => {
    const self: { frame: CpuProfile['nodes'][number]['callFrame']; us: number }[] = [];
    for (const profile of profiles) {
      const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
      const byNode = new Map<number, number>();
      let atUs = profile.startTime;
      profile.samples.forEach((nodeId, index) => {
        const delta = profile.timeDeltas[index] ?? 0;
        atUs += delta;
        if (within(atUs)) byNode.set(nodeId, (byNode.get(nodeId) ?? 0) + delta);
      });
      for (const [nodeId, us] of byNode) self.push({ frame: nodes.get(nodeId)!.callFrame, us });
    }
    return self;
  };
  let selfUs = window ? tally((atUs) => atUs >= window.fromUs && atUs <= window.toUs) : [];
  // Another clock after all (not Linux?): nothing fell in the window, so the whole profile counts.
  const loadWindowOnly = selfUs.length > 0;
  if (!loadWindowOnly) selfUs = tally(() => true);
  const byFunction = new Map<string, ProfileEntry>();
  const byFile = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const { frame, us } of selfUs) {
    const { functionName, url, lineNumber } = frame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const label = fileLabel(url, functionName);
    const name = functionName || '(anonymous)';
    const key = `${name}\0${label}\0${lineNumber}`;
    const entry = byFunction.get(key) ?? {
      functionName: name,
      file: label,
      line: lineNumber >= 0 && url !== '' ? lineNumber + 1 : null,
      selfMs: 0,
      selfShare: 0,
    };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
    byFile.set(label, (byFile.get(label) ?? 0) + us / 1000);
  }
  const busyMs = busyUs / 1000;
  const share = (ms: number) => (busyMs > 0 ? round(ms / busyMs, 4) : 0);
  return {
    loadWindowOnly,
    busyMs: round(busyMs, 0),
    idleMs: round(idleUs / 1000, 0),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((entry) => ({ ...entry, selfMs: round(entry.selfMs, 1), selfShare: share(entry.selfMs) })),
    topFiles: [...byFile.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([label, ms]) => ({ file: label, selfMs: round(ms, 1), selfShare: share(ms) })),
  };
}
