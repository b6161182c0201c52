import { spawn } from 'node:child_process';
import { projectRoot } from '../../src/project-root';

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the project's TypeScript entry points as a person runs it (a
 * child process with tsx), with extra environment variables; killed and
 * failed if it has not exited within `timeoutMs`.
 */
export function runScript(
  file: string,
  args: string[],
  { env = {}, timeoutMs = 30_000 }: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<ScriptRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
