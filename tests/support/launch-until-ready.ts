import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/project-root';

/** A launcher (`npm start`, `npm run cluster`) run as a user runs it, its output kept line by line. */
export interface LaunchedCommand {
  child: ChildProcess;
  /** Every line it printed so far, stdout and stderr interleaved. */
  output: string[];
  /** Resolves once a line starts with `readyLine`; rejects if it exits first. */
  ready: Promise<void>;
  /** Its exit code. */
  exited: Promise<number | null>;
}

/** Runs a TypeScript entry point of the project with tsx, as `npm run` would, until it prints `readyLine`. */
export function launchUntilReady(script: string, env: NodeJS.ProcessEnv, readyLine: string): LaunchedCommand {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, script)], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.startsWith(readyLine)) resolve();
      });
    }
    void exited.then((code) => reject(new Error(`${script} exited (${code}) before ready:\n${output.join('\n')}`)));
  });
  return { child, output, ready, exited };
}
