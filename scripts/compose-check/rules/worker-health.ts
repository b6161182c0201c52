import { ConfigError, loadConfig } from '../../../src/config';
import { isRecord } from '../compose-file';
import type { CheckContext } from '../context';
import { projectProcesses } from '../processes';
import { argvOf, effectiveEnvironment, services } from '../services';

const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const everyAddress = new Set(['0.0.0.0', '::']);

/**
 * Every worker has a healthcheck of its own that calls GET /health on the status page its config gives it
 * (src/workers/status.ts): that port, and an address the page listens on from inside the container (loopback,
 * unless WORKER_STATUS_HOST opens it wider).
 */
export function checkWorkerHealth(context: CheckContext): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  for (const [name, resolved] of projectProcesses(context)) {
    if (typeof resolved === 'string' || resolved.role.kind !== 'worker') continue;
    const { service } = resolved.role;
    const definition = all.get(name) ?? {};
    let config;
    try {
      config = loadConfig(
        Object.fromEntries(
          Object.entries(effectiveEnvironment(context, definition)).filter(
            (entry): entry is [string, string] => entry[1] !== undefined,
          ),
        ),
      );
    } catch (error) {
      // The environment rule reports an invalid configuration.
      if (error instanceof ConfigError) continue;
      throw error;
    }
    const port = config.workerStatusPorts[service];
    const host = config.workerStatusHost;
    const variable = `${service.toUpperCase()}_WORKER_STATUS_PORT`;
    if (port === 0) {
      problems.push(`${name}: its status page is off (${variable}=0), so no healthcheck can call its /health`);
      continue;
    }
    const wanted = `http://127.0.0.1:${port}/health`;
    const { healthcheck } = definition;
    const test = isRecord(healthcheck) && healthcheck.disable !== true ? argvOf(healthcheck.test) : undefined;
    if (!test || test[0] === 'NONE') {
      problems.push(`${name}: has no healthcheck; call the worker's GET /health (${wanted}, src/workers/status.ts)`);
      continue;
    }
    const urls = [...test.join(' ').matchAll(/https?:\/\/(\[[^\]]+\]|[^/:'"\s]+):(\d+)(\/[^'"\s)?#]*)?/g)];
    const reaches = (probeHost: string) =>
      probeHost === host || (loopback.has(probeHost) && (loopback.has(host) || everyAddress.has(host)));
    const probes = urls.some((url) => url[3] === '/health' && Number(url[2]) === port && reaches(url[1] ?? ''));
    if (!probes) {
      const seen = urls.map((url) => url[0]).join(', ') || 'no URL';
      problems.push(
        `${name}: its healthcheck calls ${seen}, but the worker serves GET /health on ${host}:${port} (${variable}, WORKER_STATUS_HOST)`,
      );
    }
  }
  return problems;
}
