import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from '../src/reliability/chaos';

/**
 * The chaos command's short form: a small load while workers are killed with
 * SIGKILL and the Temporal server restarts. The long form is `npm run chaos`;
 * its figures are in docs/RELIABILITY.md.
 */
test('under worker kills and a Temporal restart, every order finishes and the books balance', async () => {
  const report = await runChaos({
    orders: 60,
    // Not database-outage: on SQLite it can leave a worker's connection holding the write lock
    // (docs/RELIABILITY.md, "Known failure"); it stays in the command, where it shows that.
    faults: ['kill-workers', 'restart-temporal'],
    concurrency: 4,
    killEveryMs: 3_000,
    faultWindowMs: 30_000,
    drainTimeoutMs: 180_000,
    seed: 7,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(
    `  ${JSON.stringify({ ...report, invariants: { ok: report.invariants.ok, figures: report.invariants.figures } })}`,
  );
  assert.deepEqual(report.undrained, [], 'every order reached a final state');
  assert.deepEqual(report.invariants.violations, []);
  assert.equal(report.orders.placed, 60);
  assert.ok(report.faults.workerKills >= 1, 'at least one worker was killed');
  assert.equal(report.faults.temporalRestarts, 1);
  assert.ok((report.orders.byStatus.confirmed ?? 0) > 0);
  assert.ok((report.orders.byStatus.failed ?? 0) > 0, 'the compensation paths ran too');
});
