import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { runtimeMetricsExporter } from '../metrics/runtime-exporter';
import { reportReadyToParent, stopWhenParentGoes } from '../parent-process';
import { serviceNames, type ServiceName } from '../temporal/names';
import { startServiceWorkerHost } from './host';
import { installWorkerRuntime } from './runtime';

/** The argument that hosts every service's worker in this one process (what `npm start` runs). */
const allServices = 'all';

const usage = `Usage: tsx src/workers/main.ts <${serviceNames.join('|')}>... | ${allServices}`;

/** The services named on the command line, each once, in the order of serviceNames. */
function servicesToHost(args: readonly string[]): ServiceName[] {
  if (args.length === 0) throw new Error(`${usage} (got nothing)`);
  if (args.length === 1 && args[0] === allServices) return [...serviceNames];
  const unknown = args.filter((arg) => !serviceNames.includes(arg as ServiceName));
  if (unknown.length > 0) throw new Error(`${usage} (got ${unknown.join(' ')})`);
  return serviceNames.filter((service) => args.includes(service));
}

/**
 * `tsx src/workers/main.ts <service>...`: migrates each named service's database, then polls its queue; one service
 * per process as deployed (compose), or several (`all`) in one process, as `npm start` runs them.
 */
async function main(): Promise<void> {
  const services = servicesToHost(process.argv.slice(2));
  const config = loadConfig();
  const name = services.length === 1 ? `worker:${services[0]}` : 'workers';
  const logger = createLogger(name, config.logLevel);
  // Before any connection or worker: the SDK's, workflows' and activities' lines go to the same JSON log.
  // Core's metrics exporter only when a status page is on: its GET /metrics is where they are served.
  const anyStatusPage = services.some((service) => config.workerStatusPorts[service] !== 0);
  installWorkerRuntime({ logger, ...(anyStatusPage && { metrics: await runtimeMetricsExporter() }) });
  const host = await startServiceWorkerHost(services, { config, logger });
  reportReadyToParent();
  stopWhenParentGoes(logger, () => process.kill(process.pid, 'SIGTERM'));
  // Resolves once SIGINT/SIGTERM has drained every worker's in-flight tasks (the SDK installs those handlers).
  await host.run();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
