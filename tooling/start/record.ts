import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * What `npm start` is running, in a file next to its data, so that the next `npm start` can stop what one that died
 * left behind (when its guardian died with it, say): each process with its command line, which tells it from a
 * later process that got the same pid.
 */
export interface StartRecord {
  pid: number;
  command: string;
  processes: { name: string; pid: number; command: string }[];
}

/** Each pid's command line (ps, on Linux and macOS); a pid that has gone, or has ended as a zombie, is missing. */
export function commandLines(pids: readonly number[]): Map<number, string> {
  if (pids.length === 0) return new Map();
  let table = '';
  try {
    table = execFileSync('ps', ['-ww', '-o', 'pid=,stat=,args=', '-p', pids.join(',')], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when none of the pids is there.
  }
  const rows = table.split('\n').map((line) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line));
  return new Map(
    rows.filter((row) => row !== null && !row[2]!.startsWith('Z')).map((row) => [Number(row![1]), row![3]!]),
  );
}

/** Keeps the file in step with what this `npm start` runs; `clear` when it has stopped everything itself. */
export class StartRecorder {
  private readonly record: StartRecord;

  constructor(private readonly file: string) {
    this.record = { pid: process.pid, command: commandLines([process.pid]).get(process.pid) ?? '', processes: [] };
    this.write();
  }

  add(name: string, pid: number): void {
    const command = commandLines([pid]).get(pid);
    if (command === undefined) return;
    this.record.processes.push({ name, pid, command });
    this.write();
  }

  remove(pid: number): void {
    this.record.processes = this.record.processes.filter((process) => process.pid !== pid);
    this.write();
  }

  clear(): void {
    rmSync(this.file, { force: true });
  }

  private write(): void {
    writeFileSync(this.file, `${JSON.stringify(this.record, null, 2)}\n`);
  }
}

function readRecord(file: string): StartRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StartRecord;
  } catch {
    return undefined;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    // A service leads its own process group, with its helpers: signal them all.
    process.kill(-pid, name);
  } catch {
    try {
      process.kill(pid, name);
    } catch {
      // Gone meanwhile.
    }
  }
}

export type Leftovers =
  | { found: 'none' }
  /** The `npm start` of the record is still running: not leftovers, another instance. */
  | { found: 'running'; pid: number }
  /** What was left running and has been stopped (SIGTERM, then SIGKILL after `graceMs`). */
  | { found: 'stopped'; pid: number; processes: StartRecord['processes'] };

/** Stops what the `npm start` recorded in `file` left running if it died; see {@link Leftovers}. */
export async function stopLeftovers(file: string, graceMs = 15_000): Promise<Leftovers> {
  const record = readRecord(file);
  if (!record) return { found: 'none' };
  const pids = [record.pid, ...record.processes.map(({ pid }) => pid)];
  const running = commandLines(pids);
  if (running.get(record.pid) === record.command) return { found: 'running', pid: record.pid };
  const left = record.processes.filter(({ pid, command }) => running.get(pid) === command);
  for (const { pid } of left) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  const stillThere = () => {
    const now = commandLines(left.map(({ pid }) => pid));
    return left.filter(({ pid, command }) => now.get(pid) === command);
  };
  while (stillThere().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  for (const { pid } of stillThere()) signal(pid, 'SIGKILL');
  rmSync(file, { force: true });
  return left.length === 0 ? { found: 'none' } : { found: 'stopped', pid: record.pid, processes: left };
}
