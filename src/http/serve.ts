import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { reportReadyToParent, stopWhenParentGoes } from '../parent-process';

/** How long in-flight requests may take to finish after SIGINT/SIGTERM. */
const shutdownGraceMs = 10_000;

export interface HttpProcess {
  /** Names the process in its log lines, e.g. api, gateway. */
  name: string;
  app: Express;
  host: string;
  port: number;
  logger: Logger;
  /** Logged with the listening line, beside the URL. */
  listeningFields?: Record<string, unknown>;
  /** Runs once the server has closed, before the process exits (close clients and databases, flush traces). */
  onStopped?: () => void | Promise<unknown>;
}

/**
 * Runs an Express app as the process's one server, the same way for the API, the codec server and the partner
 * simulators: listens, logs its URL, tells a parent (`npm start`) it is ready, and on SIGINT, SIGTERM or the parent's
 * going stops gracefully: no new connections, in-flight requests finish (cut after {@link shutdownGraceMs}), then
 * `onStopped`, then exit 0.
 */
export async function serveHttp({
  name,
  app,
  host,
  port,
  logger,
  listeningFields,
  onStopped,
}: HttpProcess): Promise<Server> {
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port: boundPort } = server.address() as AddressInfo;
  logger.info({ url: `http://${host}:${boundPort}`, ...listeningFields }, `${name} listening`);
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
      // Whatever onStopped does, the process must still go: a stuck close is logged by its owner, not waited for.
      void Promise.resolve()
        .then(onStopped)
        .catch((error: unknown) => logger.error({ err: error }, `${name}: closing its resources failed`))
        .finally(() => {
          logger.info(`${name} stopped`);
          process.exit(0);
        });
    });
    server.closeIdleConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  stopWhenParentGoes(logger, () => stop('SIGTERM'));
  return server;
}
