import { collectDefaultMetrics, Registry } from 'prom-client';

/** A process's registry, with prom-client's default metrics (CPU, memory, event loop lag, GC, handles). */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
