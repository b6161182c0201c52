import type { Logger } from 'pino';

/**
 * The link between `npm start` and the processes it starts (an IPC channel,
 * present only when started that way).
 */

/** Tells the parent this process is ready (for a worker: migrated and polling). */
export function reportReadyToParent(): void {
  process.send?.({ ready: true });
}

/**
 * Runs `stop` if the parent goes away, so no orphan keeps running after a
 * crashed `npm start`. The channel itself must not keep this process alive
 * once its work is done, hence unref.
 *
 * The parent read this process's output; with it gone, a log write blocks on
 * the dead pipe and the stop never finishes, so logging is silenced first.
 */
export function stopWhenParentGoes(logger: Logger, stop: () => void): void {
  if (!process.channel) return;
  process.once('disconnect', () => {
    logger.level = 'silent';
    stop();
  });
  process.channel.unref();
}
