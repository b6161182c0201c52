import type { CheckContext } from '../context';
import { projectProcesses } from '../processes';
import { effectiveEnvironment, imageOf, services } from '../services';
import { parsePorts } from './ports-and-mounts';

/**
 * Payload encryption across the file: every process that reads or writes payloads (the API, the workers, the codec
 * server) has keys unless encryption is off, all the same keys (what one encrypts, every other must decrypt), and
 * the Web UI's TEMPORAL_CODEC_ENDPOINT names a port the codec server publishes: the operator's browser calls it,
 * so it is a host address, not a service name.
 */
export function checkPayloadEncryption(context: CheckContext): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  const keyHolders: { name: string; kind: string; keys: string }[] = [];
  const codecPorts = new Set<number>();
  for (const [name, resolved] of projectProcesses(context)) {
    if (typeof resolved === 'string') continue;
    const { kind } = resolved.role;
    if (kind !== 'api' && kind !== 'worker' && kind !== 'codec-server') continue;
    const service = all.get(name) ?? {};
    const environment = effectiveEnvironment(context, service);
    if (kind === 'codec-server') {
      for (const mapping of parsePorts(service.ports, name, [])) {
        if (mapping.published !== undefined) codecPorts.add(mapping.published);
      }
    }
    const keys = environment.PAYLOAD_ENCRYPTION_KEYS ?? '';
    if (keys.trim() === '') {
      if (environment.PAYLOAD_ENCRYPTION !== 'off') {
        problems.push(
          `${name}: PAYLOAD_ENCRYPTION_KEYS is not set, so it would refuse to start (npm run keys:new makes a key)`,
        );
      }
      continue;
    }
    keyHolders.push({ name, kind, keys: keys.trim() });
  }
  // Measured against the API's: the one every order starts from.
  const reference = keyHolders.find(({ kind }) => kind === 'api') ?? keyHolders[0];
  for (const other of keyHolders) {
    if (reference && other.keys !== reference.keys) {
      problems.push(
        `${other.name}: PAYLOAD_ENCRYPTION_KEYS differs from ${reference.name}'s; every process needs the same keys, ` +
          `in the same order, or one cannot read what another wrote`,
      );
    }
  }
  for (const [name, service] of all) {
    if (!imageOf(service).startsWith('temporalio/ui')) continue;
    const endpoint = effectiveEnvironment(context, service).TEMPORAL_CODEC_ENDPOINT;
    if (endpoint === undefined) {
      if (codecPorts.size > 0)
        problems.push(`${name}: TEMPORAL_CODEC_ENDPOINT is not set: the UI shows encrypted blobs`);
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      problems.push(`${name}: TEMPORAL_CODEC_ENDPOINT ${endpoint} is not a URL`);
      continue;
    }
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (all.has(url.hostname)) {
      problems.push(
        `${name}: TEMPORAL_CODEC_ENDPOINT ${endpoint} names a service, but the browser calls it: use a host address`,
      );
    } else if (!codecPorts.has(port)) {
      problems.push(`${name}: TEMPORAL_CODEC_ENDPOINT ${endpoint}: no codec server here publishes port ${port}`);
    }
  }
  return problems;
}
