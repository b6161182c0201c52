/** Reading a compose service definition: the forms Compose accepts, normalized. */
import path from 'node:path';
import { isRecord, type Json } from './compose-file';
import type { CheckContext } from './context';
import { dockerfileEnv, dockerfileName, imageHealthcheck, parseArgv } from './dockerfile';

export function services(context: CheckContext): [string, Json][] {
  const all = context.compose.services;
  if (!isRecord(all)) return [];
  return Object.entries(all).map(([name, service]) => [name, isRecord(service) ? service : {}]);
}

/** Built from the project's own Dockerfile: the API or a worker. */
function isProjectService(service: Json): boolean {
  const build = buildOf(service);
  if (!build) return false;
  return path.posix.normalize(path.posix.join(build.context, build.dockerfile)) === dockerfileName;
}

export function projectServices(context: CheckContext): [string, Json][] {
  return services(context).filter(([, service]) => isProjectService(service));
}

export function buildOf(service: Json): { context: string; dockerfile: string } | undefined {
  const { build } = service;
  if (typeof build === 'string') return { context: build, dockerfile: dockerfileName };
  if (isRecord(build)) {
    return {
      context: typeof build.context === 'string' ? build.context : '.',
      dockerfile: typeof build.dockerfile === 'string' ? build.dockerfile : dockerfileName,
    };
  }
  return undefined;
}

export function imageOf(service: Json): string {
  return typeof service.image === 'string' ? service.image : '';
}

/** `environment` as a map; list entries without `=` (taken from the host) map to undefined. */
export function environmentOf(service: Json): Record<string, string | undefined> {
  const { environment } = service;
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const text = String(entry);
        const separator = text.indexOf('=');
        return separator === -1 ? [text, undefined] : [text.slice(0, separator), text.slice(separator + 1)];
      }),
    );
  }
  if (isRecord(environment)) {
    return Object.fromEntries(
      Object.entries(environment).map(([key, value]) => [
        key,
        value === null || value === undefined ? undefined : String(value as string | number | boolean),
      ]),
    );
  }
  return {};
}

/** The project image's ENV. */
export function dockerfileEnvOf(context: CheckContext): Record<string, string> {
  return context.dockerfile ? dockerfileEnv(context.dockerfile) : {};
}

/** The effective environment of a project service: the Dockerfile's ENV, then compose's. */
export function effectiveEnvironment(context: CheckContext, service: Json): Record<string, string | undefined> {
  return { ...dockerfileEnvOf(context), ...environmentOf(service) };
}

export function dependsOnOf(service: Json): Record<string, string> {
  const { depends_on: dependsOn } = service;
  if (Array.isArray(dependsOn)) return Object.fromEntries(dependsOn.map((name) => [String(name), 'service_started']));
  if (isRecord(dependsOn)) {
    return Object.fromEntries(
      Object.entries(dependsOn).map(([name, options]) => [
        name,
        isRecord(options) && typeof options.condition === 'string' ? options.condition : 'service_started',
      ]),
    );
  }
  return {};
}

/** `entrypoint` or `command` (a string in shell form, or a list) as argv. */
export function argvOf(value: unknown): string[] | undefined {
  if (typeof value === 'string') return parseArgv(value);
  if (Array.isArray(value)) return value.map((item) => String(item));
  return undefined;
}

export function hasHealthcheck(service: Json, context: CheckContext): boolean {
  const { healthcheck } = service;
  if (isRecord(healthcheck)) {
    if (healthcheck.disable === true) return false;
    if (healthcheck.test !== undefined) return !(Array.isArray(healthcheck.test) && healthcheck.test[0] === 'NONE');
  }
  // Otherwise the image's own HEALTHCHECK applies; only the project's image is known here.
  return isProjectService(service) && context.dockerfile !== undefined && imageHealthcheck(context.dockerfile);
}

export interface BindMount {
  source: string;
  target: string;
}

export function bindMounts(service: Json): BindMount[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  const mounts: BindMount[] = [];
  for (const volume of volumes) {
    if (typeof volume === 'string') {
      const [source = '', target = ''] = volume.split(':');
      if (/^[./~]/.test(source)) mounts.push({ source: path.posix.normalize(source), target });
    } else if (isRecord(volume) && volume.type === 'bind' && typeof volume.source === 'string') {
      mounts.push({ source: path.posix.normalize(volume.source), target: String(volume.target) });
    }
  }
  return mounts;
}
