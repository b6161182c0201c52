import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsEndpoint } from '../metrics/worker';
import type { ServiceName } from '../temporal/names';

export interface WorkerStatusServer {
  /** Where `GET /health` answers, or undefined when the port was 0 = off. */
  url: string | undefined;
  /** Where `GET /metrics` answers (Prometheus text), when the page serves metrics. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

export interface WorkerStatusOptions {
  /** Served at `GET /metrics` (src/metrics/worker.ts); without it, 404. */
  metrics?: MetricsEndpoint;
  /** Default loopback; another address only for a scraper outside the host (compose's network). */
  host?: string;
}

/**
 * A worker process's own status page, `GET /health` on loopback: what only
 * this process knows, such as the state of its circuit breaker towards the
 * payment gateway. The API's health answers for the API, not for workers.
 * `GET /metrics` is the process's Prometheus scrape target.
 */
export async function serveWorkerStatus(
  service: ServiceName,
  port: number,
  details: () => Record<string, unknown>,
  { metrics, host = '127.0.0.1' }: WorkerStatusOptions = {},
): Promise<WorkerStatusServer> {
  if (port === 0) return { url: undefined, metricsUrl: undefined, close: () => Promise.resolve() };
  const server = createServer((request, response) => {
    if (metrics && request.method === 'GET' && request.url === '/metrics') {
      metrics.scrape().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(error instanceof Error ? error.message : String(error));
        },
      );
      return;
    }
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
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`;
  return {
    url: `${base}/health`,
    metricsUrl: metrics ? `${base}/metrics` : undefined,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
