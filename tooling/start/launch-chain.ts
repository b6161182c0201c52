import { readFileSync } from 'node:fs';

/**
 * `npm start` is npm → sh -c → tsx → node (tooling/start/main.ts). A kill -9 of npm, or of the tsx in between, ends no other
 * process of the chain: tooling/start/main.ts would run on, with everything it started, as an orphan. So it watches the chain.
 * Linux only (it reads /proc); elsewhere the chain is empty and nothing is watched.
 */

/** A process of the chain and the parent it had at start-up: another parent means the first one has gone. */
export interface ChainLink {
  pid: number;
  ppid: number;
}

/** The parent and the state of a process, from /proc; undefined once it has gone. */
function processStatus(pid: number): { ppid: number; ended: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name, which may hold spaces and parentheses: "<state> <ppid> ...".
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(ppid), ended: state === 'Z' || state === 'X' };
  } catch {
    return undefined;
  }
}

function environmentValue(pid: number, name: string): string | undefined {
  try {
    const prefix = `${name}=`;
    const entry = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .find((variable) => variable.startsWith(prefix));
    return entry?.slice(prefix.length);
  } catch {
    return undefined;
  }
}

/**
 * This process and the ancestors npm started for the same script (they carry its npm_lifecycle_script; npm itself
 * does not), each with its parent. The last one's parent is npm. Empty when not run by an npm script.
 */
export function npmScriptChain(env: NodeJS.ProcessEnv = process.env): ChainLink[] {
  const script = env.npm_lifecycle_script;
  const self = processStatus(process.pid);
  if (!script || !self) return [];
  const chain: ChainLink[] = [{ pid: process.pid, ppid: self.ppid }];
  for (;;) {
    const parent = chain[chain.length - 1]!.ppid;
    const status = parent > 1 ? processStatus(parent) : undefined;
    if (!status || environmentValue(parent, 'npm_lifecycle_script') !== script) return chain;
    chain.push({ pid: parent, ppid: status.ppid });
  }
}

/** The first link whose parent has gone (the link reparented, or itself gone), if any. */
export function brokenLink(chain: readonly ChainLink[]): ChainLink | undefined {
  return chain.find((link) => {
    const status = processStatus(link.pid);
    if (!status || status.ended || status.ppid !== link.ppid) return true;
    const parent = processStatus(link.ppid);
    return !parent || parent.ended;
  });
}

/**
 * Calls `onBroken` once, when a process of the chain has gone (polled every `intervalMs`); the returned function
 * stops watching.
 */
export function watchChain(chain: readonly ChainLink[], onBroken: (link: ChainLink) => void, intervalMs = 500) {
  if (chain.length === 0) return () => undefined;
  const timer = setInterval(() => {
    const broken = brokenLink(chain);
    if (!broken) return;
    clearInterval(timer);
    onBroken(broken);
  }, intervalMs);
  // Watching is no reason to stay alive.
  timer.unref();
  return () => clearInterval(timer);
}
