import { retryAfterUnavailableSeconds } from './problem';
import type { RouteHandler } from './route';
import type { Readiness } from './schemas';

/** A named dependency check: resolves when the dependency answers, rejects with why not. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

const checkTimeoutMs = 2_000;

function withTimeout(check: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${checkTimeoutMs} ms`)), checkTimeoutMs);
    check()
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

/** GET /health/live: the process runs. */
export const livenessHandler: RouteHandler = ({ response }) => {
  response.json({ status: 'ok' });
};

/** GET /health/ready: 200 when every dependency answers, 503 naming the ones that do not. */
export function readinessHandler(checks: ReadinessCheck[]): RouteHandler {
  return async ({ response }) => {
    const results: Readiness['checks'] = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check);
          return { name, status: 'ok' as const };
        } catch (error) {
          return {
            name,
            status: 'unavailable' as const,
            error: error instanceof Error ? error.message : String(error),
          };
        }
      }),
    );
    const ready = results.every((result) => result.status === 'ok');
    const readiness: Readiness = { status: ready ? 'ready' : 'not ready', checks: results };
    // A load balancer or client that sees the 503 learns when to ask again.
    if (!ready) response.setHeader('Retry-After', String(retryAfterUnavailableSeconds));
    response.status(ready ? 200 : 503).json(readiness);
  };
}
