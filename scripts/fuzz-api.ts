/**
 * Runs the OpenAPI fuzzer Schemathesis (from PyPI, pinned in tooling/fuzz-api/requirements.txt) against the API,
 * as an outside client would: every check, a fixed seed, the stateful phase following the document's links, with an
 * operator's key and two customers' keys. Its settings and every excluded failure, with the reason, are in
 * tooling/fuzz-api/schemathesis.toml.
 *
 *   npm run fuzz:api                       starts the whole system itself (dev server, workers, API with keys)
 *   npm run fuzz:api -- --url <base url>   fuzzes an API already running; its keys come from FUZZ_OPERATOR_KEY,
 *                                          FUZZ_CUSTOMER_KEY and FUZZ_OTHER_CUSTOMER_KEY
 * Anything after `--` goes to `schemathesis run` (e.g. `-- --max-examples 5`). Exit code: Schemathesis's (0: no
 * failure), 2 for a usage error.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { hashApiKey } from '../src/api/auth';
import { projectRoot } from '../src/project-root';

const toolDir = path.join(projectRoot, 'tooling', 'fuzz-api');
const requirementsFile = path.join(toolDir, 'requirements.txt');
const configFile = path.join(toolDir, 'schemathesis.toml');
/** Git-ignored: the virtual environment, the keys of a run and its reports. */
const workDir = path.join(projectRoot, '.fuzz');
const venvDir = path.join(workDir, 'venv');
const schemathesis = path.join(venvDir, 'bin', 'schemathesis');

/** The identities the fuzzer acts as, in the order it tries them on each operation (see escalation in the report). */
const identities = {
  customer: 'cus_fuzz_ada',
  otherCustomer: 'cus_fuzz_bob',
  operator: 'ops_fuzz',
} as const;

class UsageError extends Error {}

/** Creates the virtual environment, or reinstalls it when requirements.txt changed since. */
function ensureVenv(): void {
  const wanted = createHash('sha256').update(readFileSync(requirementsFile)).digest('hex');
  const stamp = path.join(venvDir, '.requirements-sha256');
  if (existsSync(schemathesis) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  const python = process.env.PYTHON ?? 'python3';
  console.log(`fuzz:api: installing Schemathesis into ${path.relative(projectRoot, venvDir)} (${python}, PyPI)`);
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`);
  };
  run(python, ['-m', 'venv', '--clear', venvDir]);
  run(path.join(venvDir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', requirementsFile]);
  writeFileSync(stamp, wanted);
}

interface Keys {
  operator: string;
  customer: string;
  otherCustomer: string;
}

/** A Web Fuzzing Commons auth document: one entry per identity, each sending its key as a bearer token. */
function writeAuthFile(keys: Keys): string {
  const file = path.join(workDir, 'auth.json');
  const entry = (name: string, key: string) => ({
    name,
    fixedHeaders: [{ name: 'Authorization', value: `Bearer ${key}` }],
  });
  // Customers first: an operation tries them before the operator, so their refusals (403) are exercised too.
  const document = {
    schemaVersion: '0.2.0',
    auth: [
      entry(identities.customer, keys.customer),
      entry(identities.otherCustomer, keys.otherCustomer),
      entry(identities.operator, keys.operator),
    ],
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
  return file;
}

const reportDir = path.join(workDir, 'report');
const eventsFile = path.join(reportDir, 'events.ndjson');

/** The operations a stateful scenario must reach by following a link from an answer that named a real order. */
const orderOperations = [
  'GET /orders/{orderId}',
  'GET /orders/{orderId}/events',
  'POST /orders/{orderId}/cancel',
  'POST /orders/{orderId}/approve',
  'POST /orders/{orderId}/reject',
  'POST /orders/{orderId}/compensation',
];

/**
 * The order operations no link reached with a known order (answered other than 404), from the run's NDJSON events:
 * each stateful step records the link it followed (`source -> [status] link -> target`) and its own answer.
 */
function operationsNotReachedByLinks(): string[] {
  const reached = new Set<string>();
  for (const line of readFileSync(eventsFile, 'utf8').split('\n')) {
    if (!line.includes('"ScenarioFinished"')) continue;
    const finished = (JSON.parse(line) as { ScenarioFinished: ScenarioFinished }).ScenarioFinished;
    if (finished.phase !== 'stateful') continue;
    const { cases = {}, interactions = {} } = finished.recorder ?? {};
    for (const [id, node] of Object.entries(cases)) {
      const target = /-> (\S+ \S+)$/.exec(node.transition?.id ?? '')?.[1];
      const status = interactions[id]?.response?.status_code;
      if (target && status !== undefined && status !== 404) reached.add(target);
    }
  }
  return orderOperations.filter((operation) => !reached.has(operation));
}

interface ScenarioFinished {
  phase?: string;
  recorder?: {
    cases?: Record<string, { transition?: { id?: string } | null }>;
    interactions?: Record<string, { response?: { status_code?: number } | null }>;
  };
}

async function runSchemathesis(baseUrl: string, authFile: string, extraArgs: string[]): Promise<number> {
  rmSync(reportDir, { recursive: true, force: true });
  const args = [
    '--config-file',
    configFile,
    'run',
    '--url',
    baseUrl,
    '--report',
    'junit,ndjson',
    '--report-dir',
    reportDir,
    '--report-ndjson-path',
    eventsFile,
    ...extraArgs,
    `${baseUrl}/openapi.json`,
  ];
  console.log(`fuzz:api: schemathesis ${args.join(' ')}`);
  const child = spawn(schemathesis, args, {
    // Its cache (.schemathesis/) goes there too.
    cwd: workDir,
    stdio: 'inherit',
    env: { ...process.env, FUZZ_AUTH_FILE: authFile },
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  if (code !== 0 || !existsSync(eventsFile)) return code;
  const missed = operationsNotReachedByLinks();
  if (missed.length > 0) {
    console.error(`fuzz:api: no link led the stateful phase to a known order for: ${missed.join(', ')}`);
    return 1;
  }
  console.log(`fuzz:api: links led the stateful phase to every order operation (${orderOperations.length})`);
  return 0;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(
      readFileSync(new URL(import.meta.url), 'utf8')
        .split('*/')[0]!
        .replace(/^\/\*\*|^ \* ?/gm, ''),
    );
    return 0;
  }
  ensureVenv();
  mkdirSync(workDir, { recursive: true });
  const startedAt = performance.now();
  const seconds = () => `${((performance.now() - startedAt) / 1000).toFixed(0)} s`;

  if (values.url) {
    const keys = {
      operator: process.env.FUZZ_OPERATOR_KEY,
      customer: process.env.FUZZ_CUSTOMER_KEY,
      otherCustomer: process.env.FUZZ_OTHER_CUSTOMER_KEY,
    };
    const missing = Object.entries(keys).filter(([, key]) => !key);
    if (missing.length > 0) {
      throw new UsageError(
        '--url needs the keys of an operator and of two customers in FUZZ_OPERATOR_KEY, FUZZ_CUSTOMER_KEY and ' +
          `FUZZ_OTHER_CUSTOMER_KEY (customers ${identities.customer} and ${identities.otherCustomer})`,
      );
    }
    const code = await runSchemathesis(values.url.replace(/\/+$/, ''), writeAuthFile(keys as Keys), positionals);
    console.log(`fuzz:api: done in ${seconds()}`);
    return code;
  }

  // The stack of the tests: a dev server, the four workers, the partners and the API, all on free ports.
  const { startStack } = await import('../tests/support/stack');
  const keys: Keys = {
    operator: randomBytes(24).toString('base64url'),
    customer: randomBytes(24).toString('base64url'),
    otherCustomer: randomBytes(24).toString('base64url'),
  };
  console.log('fuzz:api: starting the system (Temporal dev server, workers, API with API keys)');
  const stack = await startStack('sqlite', {
    protection: {
      auth: {
        mode: 'required',
        keys: [
          { name: identities.customer, role: 'customer', sha256: hashApiKey(keys.customer) },
          { name: identities.otherCustomer, role: 'customer', sha256: hashApiKey(keys.otherCustomer) },
          { name: identities.operator, role: 'operator', sha256: hashApiKey(keys.operator) },
        ],
      },
      // The fuzzer sends far more than a client would; the limit's own 429 is documented and tested elsewhere.
      rateLimitPerMinute: Number.POSITIVE_INFINITY,
    },
  });
  console.log(`fuzz:api: system up in ${seconds()} at ${stack.baseUrl}`);
  try {
    const code = await runSchemathesis(stack.baseUrl, writeAuthFile(keys), positionals);
    console.log(`fuzz:api: schemathesis ended (exit ${code}) after ${seconds()}`);
    return code;
  } finally {
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`fuzz:api: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(usage ? 2 : 1);
  },
);
