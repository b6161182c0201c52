import { Router } from 'express';
import { retryAfterUnavailableSeconds } from './problem';
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

export function healthRouter(checks: ReadinessCheck[]): Router {
  const router = Router();

  router.get('/health/live', (_request, response) => {
    response.json({ status: 'ok' });
  });

  router.get('/health/ready', async (_request, response) => {
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
  });

  return router;
}
