/**
 * The dev server runs with the cluster's dynamic config (deploy/temporal/dynamicconfig.yaml), turned into its
 * `--dynamic-config-value` flags: what the tests and the benchmark measure is what `npm run cluster` and compose run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { dynamicConfigArgs, dynamicConfigFile } from '../../tooling/temporal/servers';

function flagsOf(args: string[]): string[] {
  assert.equal(args.length % 2, 0);
  return args.filter((arg, index) => {
    if (index % 2 === 0) assert.equal(arg, '--dynamic-config-value');
    return index % 2 === 1;
  });
}

describe('dynamic config for the dev server', () => {
  test("every setting of the cluster's file becomes a flag, the transfer queue's read rate among them", () => {
    const flags = flagsOf(dynamicConfigArgs());
    const keys = Object.keys(parseYaml(readFileSync(dynamicConfigFile, 'utf8')) as object);
    assert.deepEqual(
      flags.map((flag) => flag.slice(0, flag.indexOf('='))),
      keys,
    );
    assert.ok(flags.includes('history.transferProcessorMaxPollRPS=1000'), flags.join(' '));
    assert.ok(flags.includes('system.enableDeploymentVersions=true'), flags.join(' '));
  });

  test('values are JSON, and a value the flags cannot express is refused by name', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamic-config-'));
    try {
      const file = path.join(dir, 'dynamicconfig.yaml');
      writeFileSync(file, 'limit.name:\n  - value: "fast lane"\n');
      assert.deepEqual(dynamicConfigArgs(file), ['--dynamic-config-value', 'limit.name="fast lane"']);
      writeFileSync(file, 'history.rps:\n  - value: 5\n    constraints:\n      namespace: default\n');
      assert.throws(() => dynamicConfigArgs(file), /history\.rps must be one value without constraints/);
      writeFileSync(file, 'history.rps:\n  - value: 5\n  - value: 6\n');
      assert.throws(() => dynamicConfigArgs(file), /history\.rps must hold exactly one value/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
