import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceName } from '../temporal/names';

export interface WorkerStatusServer {
  /** Where `GET /health` answers, or undefined when the port was 0 = off. */
  url: string | undefined;
  close(): Promise<void>;
}

/**
 * A worker process's own status page, `GET /health` on loopback: what only
 * this process knows, such as the state of its circuit breaker towards the
 * payment gateway. The API's health answers for the API, not for workers.
 */
export async function serveWorkerStatus(
  service: ServiceName,
  port: number,
  details: () => Record<string, unknown>,
): Promise<WorkerStatusServer> {
  if (port === 0) return { url: undefined, close: () => Promise.resolve() };
  const server = createServer((request, response) => {
    const found = request.method === 'GET' && request.url === '/health';
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(found ? { service, status: 'ok', ...details() } : { status: 404, title: 'Not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `The ${service} worker's status port ${port} is in use: set ${service.toUpperCase()}_WORKER_STATUS_PORT (0 = off)`,
            )
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/health`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
