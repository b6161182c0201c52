/**
 * Where the two Temporal servers come from, for `npm start` and the tests.
 *
 * The SDK normally downloads both servers from temporal.download. Machines that
 * reach only package registries cannot, so `npm run setup:temporal` builds them
 * from the Go module proxy (the CLI's dev server, with the Web UI) and Maven
 * Central (the Java time-skipping test server) into `.temporal/`.
 *
 * Each server is resolved in a fixed order:
 *   1. an environment variable naming an executable (an error if it does not),
 *   2. the copy built by `npm run setup:temporal`,
 *   3. the SDK's own cached download.
 * `startDevServer` / `startTimeSkippingServer` go one step further: if the
 * download fails and nothing is built yet, they run the setup for that server
 * when the toolchain is here, and otherwise throw one error naming what is
 * missing and the commands that provide it.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type {
  DevServerConfig,
  EphemeralServerExecutable,
  LocalTestWorkflowEnvironmentOptions,
  TestWorkflowEnvironment,
  TimeSkippingServerConfig,
} from '@temporalio/testing';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { freePort } from '../../src/net/ports';
import { projectRoot } from '../../src/project-root';
import { parse as parseYaml } from 'yaml';
// Re-exported: whoever starts a server here wants a port for it.
export { freePort, projectRoot };

/** Everything `npm run setup:temporal` writes; gitignored as a whole. */
export const temporalHome = path.join(projectRoot, '.temporal');
export const temporalLayout = {
  home: temporalHome,
  bin: path.join(temporalHome, 'bin'),
  cli: path.join(temporalHome, 'bin', 'temporal'),
  testServer: path.join(temporalHome, 'bin', 'temporal-test-server'),
  /** The real Temporal server and its SQL tool, for `npm run cluster` (built from deploy/temporal-server). */
  server: path.join(temporalHome, 'bin', 'temporal-server'),
  sqlTool: path.join(temporalHome, 'bin', 'temporal-sql-tool'),
  /** The Web UI server for the cluster (the dev server has the UI built in); built from deploy/temporal-ui. */
  uiServer: path.join(temporalHome, 'bin', 'temporal-ui-server'),
  /** The server module's `schema/` (its PostgreSQL part: versioned SQL for the tool), out of the Go module cache. */
  serverSchema: path.join(temporalHome, 'server-schema'),
  testServerDir: path.join(temporalHome, 'test-server'),
  testServerLib: path.join(temporalHome, 'test-server', 'lib'),
  manifest: path.join(temporalHome, 'manifest.json'),
  lock: path.join(temporalHome, 'setup.lock'),
} as const;

export const setupScript = path.join(projectRoot, 'scripts', 'setup-temporal.ts');
export const setupCommand = 'npm run setup:temporal';

export type ServerKind = 'dev-server' | 'time-skipping';

/** Per server: the variable that overrides it and the setup flag that builds only it. */
export const serverSpecs = {
  'dev-server': {
    title: 'Temporal dev server (Temporal CLI)',
    envVar: 'TEMPORAL_CLI_PATH',
    builtPath: temporalLayout.cli,
    setupFlag: '--cli-only',
  },
  'time-skipping': {
    title: 'Temporal time-skipping test server',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    builtPath: temporalLayout.testServer,
    setupFlag: '--test-server-only',
  },
} as const satisfies Record<ServerKind, unknown>;

export class TemporalServerUnavailableError extends Error {
  override readonly name = 'TemporalServerUnavailableError';
}

// ---------------------------------------------------------------------------
// Toolchain

export interface MissingTool {
  tool: string;
  why: string;
  /** How to get it, as a command where one exists. */
  install: string;
}

/** Oldest Go that can build CLI v1.5.1: 1.21+ fetches the go1.25 toolchain it asks for from the module proxy. */
const minGoMinor = 21;

export function findOnPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function javaCommand(env: NodeJS.ProcessEnv): string | undefined {
  const fromHome = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : undefined;
  if (fromHome && isExecutableFile(fromHome)) return fromHome;
  return findOnPath('java', env);
}

/** Parses `go version` output; undefined when go is absent or unreadable. */
async function goMinorVersion(goPath: string): Promise<number | undefined> {
  const { stdout } = await run(goPath, ['env', 'GOVERSION']).catch(() => ({ stdout: '' }));
  const match = /go1\.(\d+)/.exec(stdout);
  return match ? Number(match[1]) : undefined;
}

/** What the machine lacks to build (and, for Java, to run) the given server. */
export async function missingTools(kind: ServerKind, env: NodeJS.ProcessEnv = process.env): Promise<MissingTool[]> {
  const missing: MissingTool[] = [];
  if (kind === 'dev-server') {
    const goPath = findOnPath('go', env);
    const minor = goPath ? await goMinorVersion(goPath) : undefined;
    if (!goPath || minor === undefined || minor < minGoMinor) {
      missing.push({
        tool: goPath ? `go >= 1.${minGoMinor} (found go1.${minor ?? '?'} at ${goPath})` : `go >= 1.${minGoMinor}`,
        why: 'builds the Temporal CLI (dev server + Web UI) from the Go module proxy',
        install:
          "a Go toolchain >= 1.21 on PATH: Debian 13+/Ubuntu 24.04+ 'apt-get install golang-go'; " +
          "Debian 12's golang-go is Go 1.19, too old: use a Go release from go.dev or bookworm-backports",
      });
    }
  } else {
    if (!javaCommand(env)) {
      missing.push({
        tool: 'java (>= 8)',
        why: 'runs the Java time-skipping test server',
        install: 'apt-get install default-jre-headless',
      });
    }
    if (!findOnPath('mvn', env)) {
      missing.push({
        tool: 'mvn',
        why: 'fetches io.temporal:temporal-test-server from Maven Central',
        install: 'apt-get install maven',
      });
    }
  }
  return missing;
}

export function describeMissing(missing: MissingTool[]): string {
  return missing.map((m) => `  - ${m.tool}: ${m.why}\n    install: ${m.install}`).join('\n');
}

// ---------------------------------------------------------------------------
// Resolution

export type ExecutableSource = 'env' | 'built' | 'download';

export interface ResolvedExecutable {
  kind: ServerKind;
  source: ExecutableSource;
  executable: EphemeralServerExecutable;
  /** For logs: where the server comes from. */
  description: string;
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function resolveExecutable(kind: ServerKind, env: NodeJS.ProcessEnv): ResolvedExecutable {
  const spec = serverSpecs[kind];
  const fromEnv = env[spec.envVar];
  if (fromEnv) {
    const file = path.resolve(fromEnv);
    if (!isExecutableFile(file)) {
      const problem = !existsSync(file)
        ? 'does not exist'
        : statSync(file).isFile()
          ? 'is not executable (chmod +x?)'
          : 'is not a file';
      throw new TemporalServerUnavailableError(
        `${spec.envVar}=${fromEnv} ${problem}. It must name the ${spec.title} executable; ` +
          `unset it to use the copy built by '${setupCommand}' or the SDK's download.`,
      );
    }
    return {
      kind,
      source: 'env',
      executable: { type: 'existing-path', path: file },
      description: `${file} (from ${spec.envVar})`,
    };
  }
  if (isExecutableFile(spec.builtPath)) {
    return {
      kind,
      source: 'built',
      executable: { type: 'existing-path', path: spec.builtPath },
      description: `${path.relative(projectRoot, spec.builtPath)} (built by ${setupCommand})`,
    };
  }
  return {
    kind,
    source: 'download',
    executable: { type: 'cached-download' },
    description: "the SDK's cached download",
  };
}

/** The dev server: `TEMPORAL_CLI_PATH`, then `.temporal/bin/temporal`, then the SDK's download. */
export function resolveDevServerExecutable(env: NodeJS.ProcessEnv = process.env): ResolvedExecutable {
  return resolveExecutable('dev-server', env);
}

/** The time-skipping server: `TEMPORAL_TEST_SERVER_PATH`, then `.temporal/bin/temporal-test-server`, then the SDK's download. */
export function resolveTestServerExecutable(env: NodeJS.ProcessEnv = process.env): ResolvedExecutable {
  return resolveExecutable('time-skipping', env);
}

// ---------------------------------------------------------------------------
// Starting

type ClientAndPlugins = Omit<LocalTestWorkflowEnvironmentOptions, 'server'>;

export interface StartOptions {
  /** Build the server with `npm run setup:temporal` when the download fails and nothing is built (default true). */
  autoSetup?: boolean;
  /** Progress lines (which server is used, setup output goes to stderr regardless). Default: stderr. */
  progress?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export type StartDevServerOptions = Omit<DevServerConfig, 'type' | 'executable'> &
  ClientAndPlugins &
  StartOptions & {
    /** false: the server's own defaults instead of deploy/temporal/dynamicconfig.yaml (the benchmark's floor both ways). */
    dynamicConfig?: boolean;
  };
export type StartTimeSkippingServerOptions = Omit<TimeSkippingServerConfig, 'type' | 'executable'> &
  ClientAndPlugins &
  StartOptions & {
    /** Registered once started, like the dev server's option of the same name (the SDK has none for this server). */
    searchAttributes?: SearchAttributeKey<SearchAttributeType>[];
  };

const defaultProgress = (line: string): void => {
  process.stderr.write(`[temporal] ${line}\n`);
};

// Both start functions import the SDK on first use rather than at module load: the setup script
// shares this module's layout and has no need for the SDK's native bridge.

/** The cluster's dynamic config, which the dev server runs with too: what the tests measure is what deploys. */
export const dynamicConfigFile = path.join(projectRoot, 'deploy', 'temporal', 'dynamicconfig.yaml');

/**
 * A dynamic config file's unconstrained values as the dev server's `--dynamic-config-value KEY=JSON` flags (the
 * dev server takes no file). Values scoped by constraints (a namespace, a task queue) have no flag form and are
 * refused, rather than applied everywhere.
 */
export function dynamicConfigArgs(file = dynamicConfigFile): string[] {
  const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (parsed === null || typeof parsed !== 'object') throw new Error(`${file}: expected a map of settings`);
  return Object.entries(parsed).flatMap(([key, entries]) => {
    if (!Array.isArray(entries) || entries.length !== 1) {
      throw new Error(`${file}: ${key} must hold exactly one value for the dev server to take it`);
    }
    const [entry] = entries as { value?: unknown; constraints?: unknown }[];
    if (entry?.value === undefined || entry.constraints !== undefined) {
      throw new Error(`${file}: ${key} must be one value without constraints for the dev server to take it`);
    }
    return ['--dynamic-config-value', `${key}=${JSON.stringify(entry.value)}`];
  });
}

/**
 * Starts the dev server (full server, Web UI if `ui`/`uiPort`) and connects to it, with the cluster's dynamic
 * config (deploy/temporal/dynamicconfig.yaml) before any `extraArgs` of the caller's.
 */
export async function startDevServer(options: StartDevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const { autoSetup, progress, env, client, plugins, dynamicConfig = true, ...server } = options;
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const extraArgs = [...(dynamicConfig ? dynamicConfigArgs() : []), ...(server.extraArgs ?? [])];
  return startWithFallback('dev-server', { autoSetup, progress, env }, (executable) =>
    TestWorkflowEnvironment.createLocal({ server: { ...server, extraArgs, executable }, client, plugins }),
  );
}

/** Starts the time-skipping test server and connects to it. */
export async function startTimeSkippingServer(
  options: StartTimeSkippingServerOptions = {},
): Promise<TestWorkflowEnvironment> {
  const { searchAttributes = [], ...rest } = options;
  const testEnv = await startTimeSkippingServerOnly(rest);
  if (searchAttributes.length > 0) {
    const { default: proto } = await import('@temporalio/proto');
    const { IndexedValueType } = proto.temporal.api.enums.v1;
    await testEnv.connection.operatorService.addSearchAttributes({
      namespace: testEnv.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        searchAttributes.map(({ name, type }) => [
          name,
          IndexedValueType[`INDEXED_VALUE_TYPE_${type}` as keyof typeof IndexedValueType],
        ]),
      ),
    });
  }
  return testEnv;
}

async function startTimeSkippingServerOnly(
  options: Omit<StartTimeSkippingServerOptions, 'searchAttributes'>,
): Promise<TestWorkflowEnvironment> {
  const { autoSetup, progress, env, client, plugins, ...server } = options;
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  return startWithFallback('time-skipping', { autoSetup, progress, env }, async (executable) => {
    if (executable.type !== 'existing-path') {
      return TestWorkflowEnvironment.createTimeSkipping({
        server: { ...server, executable },
        client,
        plugins,
      });
    }
    /*
     * The SDK gives a server 5 s to answer. The JVM answers in ~1 s on an idle
     * machine here but took 2.5-5.5 s with both cores saturated, so we start it
     * ourselves, wait as long as it needs, and hand the SDK a no-op executable
     * plus the port: the SDK then only connects.
     */
    const port = server.port ?? (await freePort());
    const jvm = await spawnAndWaitForPort(executable.path, [String(port), ...(server.extraArgs ?? [])], port, {
      env: env ?? process.env,
      timeoutMs: jvmStartTimeoutMs,
    });
    try {
      const testEnv = await TestWorkflowEnvironment.createTimeSkipping({
        server: { port, executable: { type: 'existing-path', path: noopExecutable() } },
        client,
        plugins,
      });
      const sdkTeardown = testEnv.teardown.bind(testEnv);
      testEnv.teardown = async () => {
        try {
          await sdkTeardown();
        } finally {
          await jvm.kill();
        }
      };
      return testEnv;
    } catch (err) {
      await jvm.kill();
      throw err;
    }
  });
}

const jvmStartTimeoutMs = 60_000;

/** Anything that accepts the SDK's `<port>` argument and exits. */
function noopExecutable(): string {
  return findOnPath('true') ?? '/bin/true';
}

interface OwnedProcess {
  kill(): Promise<void>;
}

/** Spawns a server, resolves once its port accepts connections; fails early if it exits first. */
async function spawnAndWaitForPort(
  command: string,
  args: string[],
  port: number,
  { env, timeoutMs }: { env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<OwnedProcess> {
  // Both streams to stderr: a test file's stdout belongs to the test runner, as with the SDK's own spawn.
  const child = spawn(command, args, { env, stdio: ['ignore', process.stderr, process.stderr] });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`${command} ${args.join(' ')} exited (${signal ?? code}) before listening on ${port}`)),
    );
  });
  exited.catch(() => undefined);
  // A test that never tears down must still not leave a JVM behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const owned: OwnedProcess = {
    async kill() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    },
  };
  try {
    await Promise.race([waitForPort(port, timeoutMs), exited]);
    return owned;
  } catch (err) {
    await owned.kill();
    throw err;
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isDownloadFailure(err: unknown): boolean {
  return err instanceof Error && /failed to download ephemeral server executable/i.test(err.message);
}

async function startWithFallback(
  kind: ServerKind,
  { autoSetup = true, progress = defaultProgress, env = process.env }: StartOptions,
  create: (executable: EphemeralServerExecutable) => Promise<TestWorkflowEnvironment>,
): Promise<TestWorkflowEnvironment> {
  const spec = serverSpecs[kind];
  const resolved = resolveExecutable(kind, env);
  progress(`${spec.title}: ${resolved.description}`);
  // Without java the built wrapper exits at once and the SDK only reports a 5 s startup timeout.
  if (kind === 'time-skipping' && resolved.source === 'built' && !javaCommand(env)) {
    throw new TemporalServerUnavailableError(
      `Cannot start the ${spec.title}: ${resolved.description} needs java, which is not on PATH ` +
        `(nor in JAVA_HOME). Install it: apt-get install default-jre-headless`,
    );
  }
  let downloadError: Error;
  try {
    return await create(resolved.executable);
  } catch (err) {
    if (resolved.source !== 'download' || !isDownloadFailure(err)) throw err;
    downloadError = err as Error;
  }

  const missing = await missingTools(kind, env);
  if (missing.length > 0 || !autoSetup) {
    throw new TemporalServerUnavailableError(
      [
        `Cannot start the ${spec.title}.`,
        `The SDK could not download it: ${downloadError.message}`,
        `No local copy either: ${spec.envVar} is unset and ${path.relative(projectRoot, spec.builtPath)} does not exist.`,
        missing.length > 0
          ? `Building it needs what this machine lacks:\n${describeMissing(missing)}\nthen run '${setupCommand}'.`
          : `Build it with '${setupCommand}' (automatic setup is off).`,
        `Or point ${spec.envVar} at an existing executable.`,
      ].join('\n'),
    );
  }

  progress(
    `download failed (${firstLine(downloadError.message)}); building it with '${setupCommand} -- ${spec.setupFlag}'`,
  );
  await runSetup(spec.setupFlag, env);
  if (!isExecutableFile(spec.builtPath)) {
    throw new TemporalServerUnavailableError(
      `'${setupCommand} -- ${spec.setupFlag}' succeeded but ${spec.builtPath} is not there.`,
    );
  }
  return create({ type: 'existing-path', path: spec.builtPath });
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

async function runSetup(flag: string, env: NodeJS.ProcessEnv): Promise<void> {
  // stdout of a test file belongs to the test runner's protocol, so the setup talks on stderr only.
  const child = spawn(process.execPath, ['--import', 'tsx', setupScript, flag], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, signal) => resolve(signal ? 128 : c));
  });
  if (code !== 0) {
    throw new TemporalServerUnavailableError(
      `'${setupCommand} -- ${flag}' failed (exit ${code}); its output is above. Run it by hand to retry.`,
    );
  }
}

// ---------------------------------------------------------------------------
// Small helpers shared with scripts/setup-temporal.ts

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve({ stdout, stderr })
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stderr || stdout}`)),
    );
  });
}
