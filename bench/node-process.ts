import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../src/project-root';
import { launchServiceProcess, type LaunchOptions, type ServiceProcess } from '../src/service-process';

/**
 * launchServiceProcess (src/service-process.ts) with Node flags of its own, for the one process the benchmark
 * profiles: Node refuses --cpu-prof in NODE_OPTIONS, so it has to be on the command line. The same process otherwise:
 * IPC for its ready report, its own process group, SIGTERM to stop.
 */
export function launchNodeProcess(options: LaunchOptions & { nodeArgs?: string[] }): ServiceProcess {
  const { name, script, args = [], env = process.env, onLine = () => undefined, nodeArgs = [] } = options;
  if (nodeArgs.length === 0) return launchServiceProcess({ name, script, args, env, onLine });
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(projectRoot, script), ...args], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
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
  };
}
