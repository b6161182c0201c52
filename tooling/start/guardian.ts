/**
 * `npm start`'s guardian, a process of its own: if tooling/start/main.ts dies without stopping what it started (kill -9, a
 * crash), it stops it. The Node services notice on their own (their IPC channel to tooling/start/main.ts closes) but the
 * Temporal dev server, which the SDK spawns, does not, and a service may hang in its drain. tooling/start/main.ts names each
 * process over IPC as it starts it, and releases the guardian (SIGTERM) once it has stopped them itself.
 */

/** What tooling/start/main.ts tells its guardian over IPC. */
export type GuardianMessage =
  /** A process to stop should tooling/start/main.ts die; one that `stopsItself` (a service, on its parent's death) may drain. */
  | { guard: { pid: number; stopsItself: boolean } }
  /** It has exited: its pid may soon be someone else's. */
  | { unguard: number };

/** How long the services may drain after their parent's death before they are killed. */
const drainMs = 10_000;

/** The guarded processes: whether each stops on its own when its parent goes. */
const guarded = new Map<number, boolean>();

/** Signals the process (0: only asks whether it is there); false when there is no such process. */
function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    // A negative pid signals the process group: a service launched detached leads its own, with its helpers.
    process.kill(-pid, name);
    return true;
  } catch {
    try {
      process.kill(pid, name);
      return true;
    } catch {
      return false;
    }
  }
}

const alive = (pid: number) => signal(pid, 0);

async function stopOrphans(): Promise<void> {
  for (const [pid, stopsItself] of guarded) if (!stopsItself) signal(pid, 'SIGTERM');
  const deadline = Date.now() + drainMs;
  while ([...guarded.keys()].some(alive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const pid of guarded.keys()) if (alive(pid)) signal(pid, 'SIGKILL');
}

process.on('message', (message: GuardianMessage) => {
  if ('guard' in message) guarded.set(message.guard.pid, message.guard.stopsItself);
  else guarded.delete(message.unguard);
});
// Nothing to log to once tooling/start/main.ts, which reads this process's output, has gone.
process.once('disconnect', () => void stopOrphans().finally(() => process.exit(0)));
// Ctrl-C reaches only tooling/start/main.ts (this process leads its own group); a SIGTERM is tooling/start/main.ts, having stopped
// everything itself, releasing it.
process.once('SIGTERM', () => process.exit(0));
process.send?.({ ready: true });
