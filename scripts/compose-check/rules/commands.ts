import { serviceNames, type ServiceName } from '../../../src/temporal/names';
import type { CheckContext } from '../context';
import { apiFile, projectProcesses, workerFile } from '../processes';

/**
 * Project services run something that exists (an npm script, or a file), the
 * API at least once and exactly one worker per service.
 */
export function checkCommands(context: CheckContext): string[] {
  const problems: string[] = [];
  const workers = new Map<ServiceName, string[]>(serviceNames.map((service) => [service, []]));
  let apis = 0;
  for (const [name, resolved] of projectProcesses(context)) {
    if (typeof resolved === 'string') {
      problems.push(`${name}: ${resolved}`);
      continue;
    }
    if (resolved.role.kind === 'api') apis++;
    if (resolved.role.kind === 'worker') workers.get(resolved.role.service)?.push(name);
  }
  for (const [service, names] of workers) {
    if (names.length === 0) problems.push(`no worker for the ${service} service (${workerFile} ${service})`);
    if (names.length > 1) {
      problems.push(
        `${names.length} workers for the ${service} service (${names.join(', ')}); scale one with replicas`,
      );
    }
  }
  if (apis === 0) problems.push(`no service runs the API (${apiFile})`);
  return problems;
}
