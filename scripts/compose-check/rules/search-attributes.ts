import { orderSearchAttributes } from '../../../src/temporal/search-attributes';
import type { CheckContext } from '../context';
import { projectProcesses } from '../processes';
import { dependsOnOf, effectiveEnvironment, projectServices, services } from '../services';
import { commandText } from '../shell';
import { testedCluster, type TestedCluster } from '../tested-cluster';

/** The `temporal` CLI's spelling of each search attribute type. */
const cliTypeNames: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `temporal operator search-attribute create` calls in the file: name, type, namespace, service. */
interface SearchAttributeRegistration {
  service: string;
  namespace: string;
  attributes: { name: string; type: string }[];
}

function registeredSearchAttributes(context: CheckContext): SearchAttributeRegistration[] {
  const found: SearchAttributeRegistration[] = [];
  for (const [name, service] of services(context)) {
    const text = commandText(service);
    for (const call of text.split(/temporal\s+operator\s+search-attribute\s+create\b/).slice(1)) {
      // Its arguments run until the end of the shell command (continuation lines are joined above).
      const args = call.split(/[;\n]|&&|\|\|/)[0] ?? '';
      const namespace = /(?:--namespace|-n)[\s=]+(\S+)/.exec(args)?.[1] ?? 'default';
      const attributes = [...args.matchAll(/--name[\s=]+(\S+)\s+--type[\s=]+(\S+)/g)].map((match) => ({
        name: (match[1] ?? '').replace(/^['"]|['"]$/g, ''),
        type: (match[2] ?? '').replace(/^['"]|['"]$/g, ''),
      }));
      found.push({ service: name, namespace, attributes });
    }
  }
  return found;
}

/**
 * The search attributes registered equal orderSearchAttributes (names and
 * types), in the namespace the app uses and the tested cluster registers
 * (tooling/cluster/settings.ts), and every worker and the API wait for that
 * registration to complete: a workflow upserting an unknown attribute fails
 * its task, and the API starts orders with RequestId, OrderId and CustomerId.
 */
export function checkSearchAttributes(context: CheckContext, tested: TestedCluster = testedCluster()): string[] {
  const problems: string[] = [];
  const registrations = registeredSearchAttributes(context);
  if (registrations.length === 0) {
    return [
      'no service runs `temporal operator search-attribute create`; the workflows upsert attributes that would not exist',
    ];
  }
  const wanted = new Map(orderSearchAttributes.map((key) => [key.name, cliTypeNames[key.type] ?? key.type]));
  const normal = (type: string) => type.toLowerCase().replace(/_/g, '');
  for (const { service, namespace, attributes } of registrations) {
    const registered = new Map(attributes.map(({ name, type }) => [name, type]));
    for (const [name, type] of wanted) {
      const got = registered.get(name);
      if (got === undefined) problems.push(`${service}: does not register ${name} (${type})`);
      else if (normal(got) !== normal(type)) {
        problems.push(
          `${service}: registers ${name} as ${got}, but src/temporal/search-attributes.ts defines it as ${type}`,
        );
      }
    }
    for (const [name, type] of registered) {
      if (!wanted.has(name)) {
        problems.push(
          `${service}: registers ${name} (${type}), which src/temporal/search-attributes.ts does not define`,
        );
      }
    }
    if (namespace !== tested.namespace) {
      problems.push(
        `${service}: registers in namespace ${namespace}, but the tested cluster's is ${tested.namespace} (tooling/cluster/settings.ts)`,
      );
    }
    for (const [name, serviceDefinition] of projectServices(context)) {
      const appNamespace = effectiveEnvironment(context, serviceDefinition).TEMPORAL_NAMESPACE ?? 'default';
      if (appNamespace !== namespace) {
        problems.push(`${service}: registers in namespace ${namespace}, but ${name} uses ${appNamespace}`);
      }
    }
  }
  const registrars = new Set(registrations.map(({ service }) => service));
  const all = new Map(services(context));
  for (const [name, resolved] of projectProcesses(context)) {
    if (typeof resolved === 'string' || (resolved.role.kind !== 'worker' && resolved.role.kind !== 'api')) continue;
    const dependsOn = dependsOnOf(all.get(name) ?? {});
    const waits = [...registrars].some((registrar) => dependsOn[registrar] === 'service_completed_successfully');
    if (!waits) {
      problems.push(`${name}: does not wait for ${[...registrars].join(' or ')} (service_completed_successfully)`);
    }
  }
  return problems;
}
