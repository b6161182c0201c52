import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos, type ChaosOptions, type ChaosReport } from '../../tooling/reliability/chaos';
import { findPostgresServerPrograms } from '../../tooling/reliability/private-postgres';

/**
 * The chaos command's short forms: a small load while workers are killed with
 * SIGKILL, the Temporal server restarts and a database goes away for 15 s.
 * The long form is `npm run chaos`; its figures are in docs/RELIABILITY.md.
 */
async function chaos(options: Partial<ChaosOptions>): Promise<ChaosReport> {
  const report = await runChaos({
    concurrency: 4,
    killEveryMs: 3_000,
    faultWindowMs: 40_000,
    drainTimeoutMs: 180_000,
    log: (line) => console.log(`  ${line}`),
    ...options,
  });
  console.log(
    `  ${JSON.stringify({ ...report, invariants: { ok: report.invariants.ok, figures: report.invariants.figures } })}`,
  );
  assert.deepEqual(report.undrained, [], 'every order reached a final state');
  assert.deepEqual(report.invariants.violations, []);
  assert.equal(report.orders.placed, options.orders);
  assert.ok((report.orders.byStatus.confirmed ?? 0) > 0);
  assert.ok((report.orders.byStatus.failed ?? 0) > 0, 'the compensation paths ran too');
  return report;
}

test('SQLite: under worker kills, a Temporal restart and a locked database, every order finishes and the books balance', async () => {
  const report = await chaos({
    orders: 60,
    database: 'sqlite',
    faults: ['kill-workers', 'restart-temporal', 'database-outage'],
    seed: 7,
  });
  assert.ok(report.faults.workerKills >= 1, 'at least one worker was killed');
  assert.equal(report.faults.temporalRestarts, 1);
  assert.equal(report.faults.databaseOutages, 1);
});

test('PostgreSQL: with the server stopped and started under worker kills, every order finishes and the books balance', async (t) => {
  if (!(await findPostgresServerPrograms())) {
    t.skip('the PostgreSQL server programs (initdb, pg_ctl) are not installed; set POSTGRES_BIN_DIR or install them');
    return;
  }
  const report = await chaos({
    orders: 40,
    database: 'postgres',
    faults: ['kill-workers', 'database-outage'],
    seed: 11,
  });
  assert.ok(report.faults.workerKills >= 1, 'at least one worker was killed');
  assert.equal(report.faults.databaseOutages, 1);
});
