import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { summarizeCpuProfile } from '../../bench/profile';

/** A .cpuprofile whose samples spend `busy` ms (µs deltas) in one function and `idle` ms idle. */
function threadProfile(functionName: string, url: string, busyMs: number, idleMs: number): object {
  return {
    startTime: 0,
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName, url, lineNumber: 9 } },
      { id: 3, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
    ],
    samples: [2, 3],
    timeDeltas: [busyMs * 1000, idleMs * 1000],
  };
}

test('a process profiled on two threads (main and workflow) counts the busy time of both', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-profile-'));
  try {
    const main = path.join(dir, 'main.cpuprofile');
    const workflows = path.join(dir, 'thread1.cpuprofile');
    writeFileSync(
      main,
      JSON.stringify(threadProfile('compile', 'file:///app/node_modules/@prisma/client/x.js', 30, 70)),
    );
    writeFileSync(workflows, JSON.stringify(threadProfile('runInContext', '', 10, 90)));

    const summary = summarizeCpuProfile([main, workflows]);

    assert.equal(summary.busyMs, 40);
    assert.equal(summary.idleMs, 160);
    assert.deepEqual(
      summary.topFunctions.map(({ functionName, file, selfMs, selfShare }) => ({
        functionName,
        file,
        selfMs,
        selfShare,
      })),
      [
        { functionName: 'compile', file: '@prisma/client', selfMs: 30, selfShare: 0.75 },
        { functionName: 'runInContext', file: '(native)', selfMs: 10, selfShare: 0.25 },
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
