import { isRecord } from '../compose-file';
import type { CheckContext } from '../context';
import { bindMounts, services } from '../services';

export interface PortMapping {
  hostIp: string;
  published: number | undefined;
  target: number;
  protocol: string;
}

/** Compose's short (`[ip:][host:]container[/protocol]`, ranges too) and long port syntax. */
export function parsePorts(ports: unknown, where: string, problems: string[]): PortMapping[] {
  if (ports === undefined) return [];
  if (!Array.isArray(ports)) {
    problems.push(`${where}: ports must be a list`);
    return [];
  }
  const mappings: PortMapping[] = [];
  for (const entry of ports) {
    if (isRecord(entry)) {
      const target = Number(entry.target);
      const published = entry.published === undefined ? undefined : Number(entry.published);
      if (!Number.isInteger(target) || (published !== undefined && !Number.isInteger(published))) {
        problems.push(`${where}: port ${JSON.stringify(entry)} is not valid`);
        continue;
      }
      mappings.push({
        hostIp: typeof entry.host_ip === 'string' ? entry.host_ip : '',
        published,
        target,
        protocol: typeof entry.protocol === 'string' ? entry.protocol : 'tcp',
      });
      continue;
    }
    const text = String(entry as string | number);
    const match = /^(?:(\[[^\]]+\]|[^:[\]]+):)??(?:([\d-]*):)?([\d-]+)(?:\/(tcp|udp|sctp))?$/.exec(text);
    if (!match) {
      problems.push(`${where}: port "${text}" is not [ip:][host:]container[/protocol]`);
      continue;
    }
    const hostIp = (match[1] ?? '').replace(/^\[|\]$/g, '');
    const targets = portRange(match[3] ?? '');
    const published = match[2] ? portRange(match[2]) : undefined;
    if (!targets || (published && published.length !== targets.length && published.length !== 1)) {
      problems.push(`${where}: port "${text}" has an invalid range`);
      continue;
    }
    targets.forEach((target, index) =>
      mappings.push({
        hostIp,
        published: published?.[published.length === 1 ? 0 : index],
        target,
        protocol: match[4] ?? 'tcp',
      }),
    );
  }
  return mappings;
}

/** `from[-to]` as the list of ports, or undefined if it is not a valid range. */
function portRange(text: string): number[] | undefined {
  const [from, to = from] = text.split('-').map(Number);
  if (from === undefined || to === undefined || !Number.isInteger(from) || !Number.isInteger(to) || to < from) {
    return undefined;
  }
  if (from < 1 || to > 65535) return undefined;
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

/** Published host ports are valid and no two services (or mappings) publish the same one. */
export function checkPorts(context: CheckContext): string[] {
  const problems: string[] = [];
  const taken: (PortMapping & { service: string })[] = [];
  const wildcard = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::';
  for (const [name, service] of services(context)) {
    for (const mapping of parsePorts(service.ports, name, problems)) {
      if (mapping.published === undefined) continue;
      const clash = taken.find(
        (other) =>
          other.published === mapping.published &&
          other.protocol === mapping.protocol &&
          (other.hostIp === mapping.hostIp || wildcard(other.hostIp) || wildcard(mapping.hostIp)),
      );
      if (clash) {
        problems.push(
          `${name}: host port ${mapping.published}/${mapping.protocol} is already published by ${clash.service}`,
        );
      }
      taken.push({ ...mapping, service: name });
    }
  }
  return problems;
}

/** Bind-mounted files and directories exist (Docker would create an empty directory in their place). */
export function checkBindMounts(context: CheckContext): string[] {
  const problems: string[] = [];
  for (const [name, service] of services(context)) {
    for (const mount of bindMounts(service)) {
      if (!context.files.exists(mount.source)) {
        problems.push(`${name}: bind mount source ${mount.source} does not exist`);
      }
    }
  }
  return problems;
}
