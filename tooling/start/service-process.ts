import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/project-root';

/**
 * A worker or the API run as its own process, as deployed: `npm start` and
 * the chaos command launch, stop and (the latter) kill them this way.
 */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** Resolves when the process reports ready over IPC (a worker: migrated and polling). */
  readonly ready: Promise<void>;
  /** Resolves once the process has exited and its last output lines have been read. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (a graceful drain), then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: a crash, with no chance to finish anything. */
  kill(): void;
  /** Sends a message over its IPC channel, if still open. */
  send(message: object): void;
}

export interface LaunchOptions {
  name: string;
  /** A TypeScript entry, relative to the project root, e.g. src/workers/main.ts. */
  script: string;
  args?: string[];
  /** Flags for Node itself, e.g. --cpu-prof (which Node refuses in NODE_OPTIONS). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Default: printed, JSON log lines as they are (they name their process), others prefixed with the name. */
  onLine?: (line: string) => void;
}

export function launchServiceProcess({
  name,
  script,
  args = [],
  nodeArgs = [],
  env = process.env,
  onLine = (line) => console.log(line.startsWith('{') ? line : `[${name}] ${line}`),
}: LaunchOptions): ServiceProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(projectRoot, script), ...args], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group, so a terminal's Ctrl-C reaches only the parent, which then
    // stops each child once (the SDK re-enters its shutdown on a second signal).
    detached: true,
  });
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message) => {
      if ((message as { ready?: boolean }).ready) resolve();
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', onLine);
  }
  // 'close', not 'exit': by then the child's last output lines have been read.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let exited = false;
  void closed.then(() => {
    exited = true;
  });

  return {
    name,
    pid: child.pid,
    ready,
    closed,
    async stop(graceMs = 20_000) {
      if (exited) return;
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      await closed;
      clearTimeout(kill);
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
    },
    send(message) {
      if (child.connected) child.send(message);
    },
  };
}

/** Whether nothing listens on host:port yet (listening there briefly is the only reliable test). */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** Polls the API's readiness until it answers 200; the error names what was still not ready. */
export async function waitForApiReady(apiUrl: string, timeoutMs: number, giveUp = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline && !giveUp()) {
    try {
      const response = await fetch(`${apiUrl}/health/ready`);
      if (response.ok) return;
      const body = (await response.json()) as { checks?: { name: string; status: string; error?: string }[] };
      lastProblem = (body.checks ?? [])
        .filter((check) => check.status !== 'ok')
        .map((check) => `${check.name}: ${check.error ?? check.status}`)
        .join('; ');
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`The API did not become ready within ${timeoutMs / 1000} s (${lastProblem})`);
}
