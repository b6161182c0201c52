import type { Json } from '../compose-file';
import type { CheckContext } from '../context';
import { dependsOnOf, hasHealthcheck, services } from '../services';
import { suggestion } from '../suggestion';

const conditions = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

/**
 * depends_on: targets exist, conditions are valid, service_healthy targets
 * have a healthcheck, service_completed_successfully targets are one-shots,
 * and there is no cycle.
 */
export function checkDependsOn(context: CheckContext): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  for (const [name, service] of all) {
    for (const [target, condition] of Object.entries(dependsOnOf(service))) {
      const dependency = all.get(target);
      if (!conditions.has(condition)) problems.push(`${name}: depends_on ${target}: unknown condition ${condition}`);
      if (target === name) problems.push(`${name}: depends on itself`);
      if (!dependency) {
        problems.push(`${name}: depends_on ${target}, which is not a service${suggestion(target, [...all.keys()])}`);
        continue;
      }
      if (condition === 'service_healthy' && !hasHealthcheck(dependency, context)) {
        problems.push(`${name}: waits for ${target} to be healthy, but ${target} has no healthcheck`);
      }
      if (
        condition === 'service_completed_successfully' &&
        ['always', 'unless-stopped'].includes(String(dependency.restart))
      ) {
        problems.push(
          `${name}: waits for ${target} to complete, but ${target} restarts (${String(dependency.restart)})`,
        );
      }
    }
  }
  const cycle = findCycle(all);
  if (cycle) problems.push(`depends_on cycle: ${cycle.join(' -> ')}`);
  return problems;
}

function findCycle(all: Map<string, Json>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const target of Object.keys(dependsOnOf(all.get(name) ?? {}))) {
      if (!all.has(target)) continue;
      const cycle = visit(target, [...trail, name]);
      if (cycle) return cycle;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const name of all.keys()) {
    const cycle = visit(name, []);
    if (cycle) return cycle;
  }
  return undefined;
}
