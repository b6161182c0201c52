/**
 * npm run setup:temporal [-- --cli-only | --test-server-only | --cluster-only] [--force]
 *
 * Builds the two Temporal servers the SDK would otherwise download from
 * temporal.download (unreachable where only package registries are):
 *   - the Temporal CLI (dev server with the Web UI embedded), from the Go module proxy;
 *   - the Java time-skipping test server, from Maven Central, plus a wrapper
 *     script the SDK can spawn as `<path> <port> [extraArgs...]`;
 *   - the real Temporal server and temporal-sql-tool for `npm run cluster`, from the Go module proxy through the
 *     wrapper module deploy/temporal-server (its go.mod pins the version), with the PostgreSQL schema they ship.
 * Everything lands in the gitignored `.temporal/`; a manifest records what was
 * built so a rerun with everything present returns at once.
 */
import { stripVTControlCharacters } from 'node:util';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
  cpSync,
} from 'node:fs';
import path from 'node:path';
import { pinnedServerVersion, pinnedUiVersion, serverModuleDir, uiModuleDir } from '../tooling/cluster/settings';
import {
  describeMissing,
  findOnPath,
  isExecutableFile,
  missingTools,
  run,
  setupCommand,
  temporalLayout as layout,
  type ServerKind,
} from '../tooling/temporal/servers';

const cliModule = 'github.com/temporalio/cli/cmd/temporal';
/** v1.6+ adds a `replace` directive to its go.mod, which `go install pkg@version` refuses. */
const cliVersion = 'v1.5.1';
/** Newest on Maven Central at the time of writing that starts and time-skips with the TS SDK 1.24. */
const testServerVersion = '1.38.0';
/** Matches the slf4j-api 1.x that temporal-serviceclient pulls in; without a binding every start prints a warning. */
const slf4jVersion = '1.7.36';
const dependencyPlugin = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

interface Manifest {
  cli?: { module: string; version: string; go: string; builtAt: string; seconds: number };
  cluster?: { module: string; version: string; uiVersion: string; go: string; builtAt: string; seconds: number };
  testServer?: {
    artifact: string;
    version: string;
    jars: number;
    builtAt: string;
    seconds: number;
  };
}

const started = Date.now();
const elapsed = (since = started): string => {
  const s = Math.round((Date.now() - since) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};
const say = (line: string): void => {
  process.stdout.write(`[setup:temporal ${elapsed()}] ${line}\n`);
};

function readManifest(): Manifest {
  try {
    return JSON.parse(readFileSync(layout.manifest, 'utf8')) as Manifest;
  } catch {
    return {};
  }
}

function writeManifest(update: (m: Manifest) => void): void {
  const manifest = readManifest();
  update(manifest);
  writeFileSync(layout.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
}

// ---------------------------------------------------------------------------
// The Temporal CLI

function cliUpToDate(m: Manifest): boolean {
  return m.cli?.version === cliVersion && isExecutableFile(layout.cli);
}

async function buildCli(): Promise<void> {
  const go = findOnPath('go')!;
  const { stdout: goVersion } = await run(go, ['env', 'GOVERSION']);
  const version = cliVersion.replace(/^v/, '');
  say(`building Temporal CLI ${cliVersion} with ${goVersion.trim()} (go install ${cliModule}@${cliVersion})`);
  say('a cold build fetches ~240 modules and compiles for several minutes; later builds reuse the Go caches');
  const t = Date.now();
  await streamed(
    go,
    [
      'install',
      // Same flags as the CLI's release build: stamps the version (else "0.0.0-DEV") and drops the symbol tables (~40 MB).
      '-ldflags',
      `-s -w -X github.com/temporalio/cli/temporalcli.Version=${version}`,
      `${cliModule}@${cliVersion}`,
    ],
    {
      ...process.env,
      GOBIN: layout.bin,
      // An older Go (>= 1.21) then fetches the go1.25 toolchain the CLI's go.mod asks for from the module
      // proxy; some distributions' go.env pins GOTOOLCHAIN=local, which would refuse. A user's own choice wins.
      GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'auto',
    },
    'go',
  );
  const { stdout } = await run(layout.cli, ['--version']);
  say(`built ${path.relative(process.cwd(), layout.cli)}: ${stdout.trim()} in ${elapsed(t)}`);
  writeManifest((m) => {
    m.cli = {
      module: cliModule,
      version: cliVersion,
      go: goVersion.trim(),
      builtAt: new Date().toISOString(),
      seconds: Math.round((Date.now() - t) / 1000),
    };
  });
}

// ---------------------------------------------------------------------------
// The real Temporal server (for `npm run cluster`)

const serverModule = 'go.temporal.io/server';

function clusterUpToDate(m: Manifest): boolean {
  return (
    m.cluster?.version === pinnedServerVersion() &&
    m.cluster.uiVersion === pinnedUiVersion() &&
    isExecutableFile(layout.server) &&
    isExecutableFile(layout.uiServer) &&
    isExecutableFile(layout.sqlTool) &&
    existsSync(path.join(layout.serverSchema, 'postgresql', 'v12'))
  );
}

async function buildCluster(): Promise<void> {
  const go = findOnPath('go')!;
  const version = pinnedServerVersion();
  // The server's go.mod may ask for a newer Go than the one installed: GOTOOLCHAIN=auto fetches that toolchain from
  // the module proxy (a distribution's go.env may pin `local`, which would refuse). A user's own choice wins.
  const env = { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'auto' };
  const { stdout: goVersion } = await run(go, ['env', 'GOVERSION'], { cwd: serverModuleDir, env });
  say(
    `building Temporal server v${version} and temporal-sql-tool with ${goVersion.trim()} (wrapper module deploy/temporal-server)`,
  );
  say('a cold build fetches ~400 modules and compiles for 3-6 minutes on 2 cores; later builds reuse the Go caches');
  const t = Date.now();
  // -mod=mod: go.sum pins every module; nothing is vendored. -trimpath/-s -w: smaller binaries, no local paths.
  const build = (output: string, pkg: string, moduleDir = serverModuleDir): Promise<void> =>
    streamed(go, ['build', '-trimpath', '-ldflags', '-s -w', '-o', output, pkg], env, 'go', moduleDir);
  await build(layout.server, `${serverModule}/cmd/server`);
  await build(layout.sqlTool, `${serverModule}/cmd/tools/sql`);
  say(`building the Web UI server v${pinnedUiVersion()} (wrapper module deploy/temporal-ui)`);
  await build(layout.uiServer, 'github.com/temporalio/ui-server/v2/cmd/server', uiModuleDir);
  // The versioned SQL ships inside the module; copied out so running the cluster needs no Go module cache.
  const { stdout: moduleDir } = await run(go, ['list', '-m', '-f', '{{.Dir}}', serverModule], {
    cwd: serverModuleDir,
    env,
  });
  const postgresSchema = path.join('postgresql', 'v12');
  rmSync(layout.serverSchema, { recursive: true, force: true });
  mkdirSync(path.join(layout.serverSchema, 'postgresql'), { recursive: true });
  cpSync(path.join(moduleDir.trim(), 'schema', postgresSchema), path.join(layout.serverSchema, postgresSchema), {
    recursive: true,
  });
  // The module cache is read-only; the copy must stay removable.
  chmodTree(layout.serverSchema);
  say(`built ${path.relative(process.cwd(), layout.server)} and temporal-sql-tool v${version} in ${elapsed(t)}`);
  writeManifest((m) => {
    m.cluster = {
      module: serverModule,
      version,
      uiVersion: pinnedUiVersion(),
      go: goVersion.trim(),
      builtAt: new Date().toISOString(),
      seconds: Math.round((Date.now() - t) / 1000),
    };
  });
}

function chmodTree(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) chmodTree(file);
    else chmodSync(file, 0o644);
  }
}

// ---------------------------------------------------------------------------
// The Java time-skipping test server

/*
 * No --enable-time-skipping here: the SDK's own (native) test server gets only
 * `<port>`, which starts with time skipping locked, and the SDK unlocks it
 * around each wait. Starting unlocked would make the SDK's first unlock an
 * unbalanced call, which the server rejects.
 * `exec` so the SDK's SIGKILL reaches the JVM rather than this shell.
 */
function wrapperScript(): string {
  return `#!/bin/sh
# Generated by ${setupCommand}: Temporal's Java time-skipping test server
# (io.temporal:temporal-test-server:${testServerVersion}). Usage: $0 <port> [--enable-time-skipping]
lib='${layout.testServerLib}'
if [ -n "$JAVA_HOME" ] && [ -x "$JAVA_HOME/bin/java" ]; then java="$JAVA_HOME/bin/java"; else java=java; fi
if ! command -v "$java" >/dev/null 2>&1; then
  echo "temporal-test-server: java not found (apt-get install default-jre-headless)" >&2
  exit 127
fi
exec "$java" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \\
  -cp "$lib/*" io.temporal.testserver.TestServer "$@"
`;
}

function pomXml(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by ${setupCommand}: only a dependency list for mvn dependency:copy-dependencies. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.temporal</groupId>
  <artifactId>temporal-test-server-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${testServerVersion}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>${slf4jVersion}</version>
    </dependency>
  </dependencies>
</project>
`;
}

function testServerJarsPresent(m: Manifest): boolean {
  return (
    m.testServer?.version === testServerVersion &&
    existsSync(path.join(layout.testServerLib, `temporal-test-server-${testServerVersion}.jar`))
  );
}

function testServerUpToDate(m: Manifest): boolean {
  return (
    testServerJarsPresent(m) &&
    isExecutableFile(layout.testServer) &&
    readFileSync(layout.testServer, 'utf8') === wrapperScript()
  );
}

async function buildTestServer(): Promise<void> {
  const t = Date.now();
  say(`fetching io.temporal:temporal-test-server:${testServerVersion} and its dependencies from Maven Central (mvn)`);
  mkdirSync(layout.testServerDir, { recursive: true });
  const pom = path.join(layout.testServerDir, 'pom.xml');
  writeFileSync(pom, pomXml());
  // Copied into a fresh folder, then swapped in, so an interrupted fetch never leaves a half-filled lib/.
  const staging = `${layout.testServerLib}.partial`;
  rmSync(staging, { recursive: true, force: true });
  await streamed(
    findOnPath('mvn')!,
    [
      '-B',
      '-q',
      '-f',
      pom,
      `${dependencyPlugin}:copy-dependencies`,
      `-DoutputDirectory=${staging}`,
      '-DincludeScope=runtime',
    ],
    process.env,
    'mvn',
  );
  rmSync(layout.testServerLib, { recursive: true, force: true });
  renameSync(staging, layout.testServerLib);
  const jars = readdirSync(layout.testServerLib).filter((f) => f.endsWith('.jar')).length;
  say(`fetched ${jars} jars into ${path.relative(process.cwd(), layout.testServerLib)} in ${elapsed(t)}`);
  writeWrapper();
  writeManifest((m) => {
    m.testServer = {
      artifact: 'io.temporal:temporal-test-server',
      version: testServerVersion,
      jars,
      builtAt: new Date().toISOString(),
      seconds: Math.round((Date.now() - t) / 1000),
    };
  });
}

function writeWrapper(): void {
  mkdirSync(layout.bin, { recursive: true });
  writeFileSync(layout.testServer, wrapperScript());
  chmodSync(layout.testServer, 0o755);
  say(`wrote ${path.relative(process.cwd(), layout.testServer)}`);
}

// ---------------------------------------------------------------------------
// Plumbing

/** Runs a long build, prefixing its output and printing a heartbeat so a quiet compile does not look hung. */
async function streamed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  label: string,
  cwd?: string,
): Promise<void> {
  const t = Date.now();
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail: string[] = [];
  let downloads = 0;
  const onData = (chunk: Buffer): void => {
    // mvn -q still emits bare colour resets; drop escapes so empty lines can be skipped.
    for (const line of stripVTControlCharacters(chunk.toString()).split('\n')) {
      if (!line.trim()) continue;
      tail = [...tail.slice(-39), line];
      // ~240 "go: downloading" lines on a cold build are noise; count them instead.
      if (line.startsWith('go: downloading')) downloads++;
      else process.stdout.write(`  ${label}: ${line}\n`);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const heartbeat = setInterval(() => {
    say(`  ${label} still running (${elapsed(t)}${downloads ? `, ${downloads} modules downloaded` : ''})`);
  }, 20_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`${label} failed (exit ${code}); last output:\n${tail.join('\n')}`);
  } finally {
    clearInterval(heartbeat);
  }
}

/*
 * Tests start in parallel processes and may each ask for a build; one builds,
 * the others wait and then find everything up to date.
 */
async function withLock<T>(body: () => Promise<T>): Promise<T> {
  mkdirSync(layout.home, { recursive: true });
  let announced = false;
  for (;;) {
    try {
      writeFileSync(layout.lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readLockHolder();
      if (holder === undefined) continue; // released just now: try again at once
      // A pid that is gone left a stale lock; an empty one is being written unless it is old.
      if (holder > 0 ? !processAlive(holder) : lockAgeMs() > 10_000) {
        rmSync(layout.lock, { force: true });
        continue;
      }
      if (!announced) say(`another setup (pid ${holder}) is running; waiting for it`);
      announced = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const release = (): void => rmSync(layout.lock, { force: true });
  process.once('exit', release);
  try {
    return await body();
  } finally {
    release();
  }
}

/** undefined when there is no lock (any more); 0 while its holder has not written its pid yet. */
function readLockHolder(): number | undefined {
  try {
    return Number(readFileSync(layout.lock, 'utf8').trim()) || 0;
  } catch {
    return undefined;
  }
}

function lockAgeMs(): number {
  try {
    return Date.now() - statSync(layout.lock).mtimeMs;
  } catch {
    return 0;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What setup builds: the two servers the SDK would download, and the real server for `npm run cluster`. */
type Build = ServerKind | 'cluster';
const buildFlags: Record<Build, string> = {
  'dev-server': '--cli-only',
  'time-skipping': '--test-server-only',
  cluster: '--cluster-only',
};

function upToDate(build: Build, manifest: Manifest): boolean {
  if (build === 'dev-server') return cliUpToDate(manifest);
  if (build === 'time-skipping') return testServerUpToDate(manifest);
  return clusterUpToDate(manifest);
}

function alreadyBuilt(build: Build): string {
  if (build === 'dev-server') return `Temporal CLI ${cliVersion} already built: ${layout.cli}`;
  if (build === 'time-skipping') return `test server ${testServerVersion} already fetched: ${layout.testServer}`;
  return `Temporal server v${pinnedServerVersion()} and Web UI v${pinnedUiVersion()} already built: ${layout.server}`;
}

async function main(): Promise<number> {
  const args = new Set(process.argv.slice(2));
  const usage = `usage: ${setupCommand} [-- --cli-only | --test-server-only | --cluster-only] [--force]`;
  if (args.has('--help') || args.has('-h')) {
    process.stdout.write(
      `${usage}\nBuilds the Temporal CLI ${cliVersion}, the Java test server ${testServerVersion} and the Temporal ` +
        `server v${pinnedServerVersion()} with temporal-sql-tool into ${layout.home}.\n`,
    );
    return 0;
  }
  for (const a of args) {
    if (![...Object.values(buildFlags), '--force'].includes(a)) {
      process.stderr.write(`setup:temporal: unknown argument ${a}\n${usage}\n`);
      return 2;
    }
  }
  const all = Object.keys(buildFlags) as Build[];
  const only = all.filter((build) => args.has(buildFlags[build]));
  const builds = only.length > 0 ? only : all;
  const force = args.has('--force');

  return withLock(async () => {
    const manifest = readManifest();
    const todo = builds.filter((build) => force || !upToDate(build, manifest));
    for (const build of builds.filter((b) => !todo.includes(b))) say(alreadyBuilt(build));
    if (todo.length === 0) {
      say('nothing to do');
      return 0;
    }

    // The cluster build needs what the CLI's needs: Go.
    const missing = (await Promise.all(todo.map((b) => missingTools(b === 'cluster' ? 'dev-server' : b)))).flat();
    if (missing.length > 0) {
      process.stderr.write(`setup:temporal: cannot build, missing:\n${describeMissing(missing)}\n`);
      return 1;
    }

    mkdirSync(layout.bin, { recursive: true });
    for (const build of todo) {
      if (build === 'dev-server') await buildCli();
      else if (build === 'cluster') await buildCluster();
      else if (!force && testServerJarsPresent(manifest)) {
        // Jars are current; only the wrapper changed (or lost its x bit).
        writeWrapper();
      } else await buildTestServer();
    }
    say(`done in ${elapsed()}`);
    return 0;
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`setup:temporal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
