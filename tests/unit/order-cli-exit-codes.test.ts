import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { projectRoot } from '../../src/project-root';
import { freePort } from '../../src/net/ports';

/**
 * `npx order` from the repository (package.json "bin") and the exit-code convention of the project's commands:
 * 0 done, 1 failed, 2 bad usage; one line on stderr, no stack trace. No API is needed for these.
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// npx runs a project's own bin from a copy it keeps per project path under the npm cache, made the first time; after
// the bin moves, that copy points at the old file ("order: not found") until the cache is cleared. A cache of this
// file's own is what a fresh clone sees, whichever bin path an earlier checkout at this path had.
const npmCache = mkdtempSync(path.join(tmpdir(), 'order-cli-npm-cache-'));
after(() => rmSync(npmCache, { recursive: true, force: true }));

function npxOrder(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['--no-install', 'order', ...args],
      {
        cwd: projectRoot,
        env: { ...process.env, NO_COLOR: '1', ORDER_API_URL: '', ORDER_API_KEY: '', npm_config_cache: npmCache },
        // The first call fills the fresh cache (about 15 s on 2 idle cores).
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('npx order: exit codes', () => {
  test('--help: 0, with the usage and the exit codes', async () => {
    const run = await npxOrder(['--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: npx order /m);
    assert.match(run.stdout, /^ {2}2 {2}bad usage/m);
  });

  for (const args of [['--no-such-option'], ['no-such-scenario'], ['--timeout', 'soon'], ['--api', 'not a url']]) {
    test(`usage error (${args.join(' ')}): 2 with one line`, async () => {
      const run = await npxOrder(args);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /^order: .*\(see --help\)\n$/);
    });
  }

  test('an API that cannot be reached: 1 (failed) with one line', async () => {
    const port = await freePort();
    const run = await npxOrder(['happy', '--api', `http://127.0.0.1:${port}`]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^order: cannot reach the API at .*\(ECONNREFUSED\)/);
    assert.equal(run.stderr.trim().split('\n').length, 1);
  });
});
