import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/project-root';

/**
 * `npm test` and `npm run test:<tier>`: runs the tiers of tests/ one after the other, each in one `node --test` run
 * of its own, then prints a closing summary with every tier's counts and wall time, so each run measures what each
 * tier costs. A failing tier does not stop the later ones: the summary says everything that failed.
 *
 * Usage: tsx tooling/test/tiers.ts [unit|workflow|integration|e2e ...]   (no argument: all four)
 */

const tiers = {
  unit: 'nothing but the code: config, API on a dead server, OpenAPI, compose check, CLI exit codes',
  workflow: 'the saga on the time-skipping server with scripted services; replay of recorded histories',
  integration: 'a service at a time: real databases (SQLite, PostgreSQL), partner processes, a Temporal server',
  e2e: 'whole systems: dev server, the workers, the API; npm start, npm run cluster, chaos',
} as const;
type Tier = keyof typeof tiers;

interface TierResult {
  tier: Tier;
  files: number;
  counts: Record<'tests' | 'pass' | 'fail' | 'cancelled' | 'skipped', number>;
  seconds: number;
  exitCode: number;
}

function isTier(name: string): name is Tier {
  return Object.hasOwn(tiers, name);
}

function testFilesOf(tier: Tier): string[] {
  const folder = path.join('tests', tier);
  return readdirSync(path.join(projectRoot, folder))
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => path.join(folder, name));
}

/** Runs one tier, its output passed through as it comes; the counts are read from the runner's own summary. */
function runTier(tier: Tier): Promise<TierResult> {
  const files = testFilesOf(tier);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const counts = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0 };
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^ℹ (tests|pass|fail|cancelled|skipped) (\d+)$/.exec(line.trim());
      if (match) counts[match[1] as keyof typeof counts] = Number(match[2]);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      resolve({ tier, files: files.length, counts, seconds, exitCode: code ?? (signal ? 1 : 0) });
    });
  });
}

function minutes(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(1)} min`;
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !isTier(name));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown tier ${unknown.join(', ')}; the tiers are ${Object.keys(tiers).join(', ')}.\n`);
    process.exitCode = 2;
    return;
  }
  const chosen = asked.length > 0 ? (asked as Tier[]) : (Object.keys(tiers) as Tier[]);
  const results: TierResult[] = [];
  for (const tier of chosen) {
    process.stdout.write(`\n=== tier ${tier}: ${tiers[tier]}\n`);
    results.push(await runTier(tier));
  }
  const total = results.reduce((sum, result) => sum + result.seconds, 0);
  const lines = ['', '=== summary of the test tiers'];
  for (const { tier, files, counts, seconds, exitCode } of results) {
    lines.push(
      `${tier.padEnd(12)} ${String(files).padStart(3)} files  ${String(counts.tests).padStart(4)} tests  ` +
        `${counts.pass} pass, ${counts.fail} fail, ${counts.skipped} skipped, ${counts.cancelled} cancelled  ` +
        `${minutes(seconds).padStart(8)}${exitCode === 0 ? '' : `  FAILED (exit ${exitCode})`}`,
    );
  }
  const failed = results.filter((result) => result.exitCode !== 0).map((result) => result.tier);
  lines.push(
    `${'all'.padEnd(12)} ${minutes(total)}; ${failed.length === 0 ? 'every tier passed' : `failed: ${failed.join(', ')}`}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

await main();
