import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseOptions } from '../../bench/options';

/**
 * `npm run bench` options (bench/options.ts), parsed without running anything.
 *
 *   node --import tsx --test tests/bench-options.test.ts
 */

const env = { TEST_POSTGRES_URL: 'postgresql://bench:secret@127.0.0.1:5432/postgres' };

describe('npm run bench options', () => {
  test('--only read-path runs the read path alone, at the sizes given, with PostgreSQL when known', () => {
    const options = parseOptions(['--only', 'read-path', '--read-path-sizes', '10000,100000'], env);
    assert.equal(options.system, false);
    assert.equal(options.profile, false);
    assert.equal(options.timeSkipping, false);
    assert.equal(options.readPath, true);
    assert.deepEqual(options.readPathSizes, [10_000, 100_000]);
    assert.deepEqual(options.providers, ['sqlite', 'postgres']);
    assert.equal(options.postgresUrl, 'postgresql://bench:***@127.0.0.1:5432/postgres');
    // Seeding visibility with 100,000 runs takes minutes: the run's bound grows with the size.
    assert.ok(options.overallDeadlineMs >= 100_000 * 5, `deadline ${options.overallDeadlineMs} ms`);
  });

  test('a full run keeps every part, and lists 100,000 orders unless told otherwise', () => {
    const options = parseOptions([], env);
    assert.equal(options.system, true);
    assert.equal(options.profile, true);
    assert.equal(options.timeSkipping, true);
    assert.equal(options.readPathSizes, null);
    assert.ok(options.overallDeadlineMs >= 30 * 60_000 + 100_000 * 5);
  });

  test('--visibility-up-to seeds visibility to a size only, and the run is bounded by that, not the largest size', () => {
    const bounded = parseOptions(['--read-path-sizes', '1000,10000,100000', '--visibility-up-to', '10000'], env);
    const unbounded = parseOptions(['--read-path-sizes', '1000,10000,100000'], env);
    assert.equal(bounded.visibilityUpTo, 10_000);
    assert.equal(unbounded.visibilityUpTo, null);
    // 90,000 visibility starts (about 12 ms each at most) fewer to wait for.
    assert.ok(unbounded.overallDeadlineMs - bounded.overallDeadlineMs >= 90_000 * 10);
    assert.throws(
      () => parseOptions(['--visibility-up-to', 'all'], env),
      /--visibility-up-to must be a positive integer/,
    );
  });

  test('--server-defaults runs the dev server without the dynamic config, so the floor can be measured both ways', () => {
    assert.equal(parseOptions([], env).serverDefaults, false);
    assert.equal(parseOptions(['--server-defaults'], env).serverDefaults, true);
  });

  test('--only takes read-path alone, and not with --smoke or --skip-read-path', () => {
    assert.throws(() => parseOptions(['--only', 'throughput'], env), /--only takes read-path/);
    assert.throws(() => parseOptions(['--only', 'read-path', '--smoke'], env), /cannot be combined/);
    assert.throws(() => parseOptions(['--only', 'read-path', '--skip-read-path'], env), /cannot be combined/);
  });
});
