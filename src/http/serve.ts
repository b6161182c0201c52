import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { reportReadyToParent, stopWhenParentGoes } from '../parent-process';

/** How long in-flight requests may take to finish after SIGINT/SIGTERM. */
const shutdownGraceMs = 10_000;

export interface PartnerProcess {
  /** Names the process in its log lines, e.g. gateway. */
  name: string;
  app: Express;
  host: string;
  port: number;
  logger: Logger;
  /** Runs once the server has closed, before the process exits (close the database, stop timers). */
  onStopped?: () => void;
}

/**
 * Runs a partner's app as a process, as src/api/server.ts runs the API:
 * listens, logs its URL, tells a parent it is ready, and stops gracefully on
 * SIGINT, SIGTERM or the parent's going.
 */
export async function servePartner({ name, app, host, port, logger, onStopped }: PartnerProcess): Promise<void> {
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port: boundPort } = server.address() as AddressInfo;
  logger.info({ url: `http://${host}:${boundPort}` }, `${name} listening`);
  reportReadyToParent();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${name} stopping: no new connections, finishing in-flight requests`);
    const forced = setTimeout(() => {
      logger.warn('in-flight requests did not finish in time; closing them');
      server.closeAllConnections();
    }, shutdownGraceMs);
    forced.unref();
    server.close(() => {
      onStopped?.();
      logger.info(`${name} stopped`);
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  stopWhenParentGoes(logger, () => stop('SIGTERM'));
}
