import path from 'node:path';
import { isRecord } from '../compose-file';
import type { CheckContext } from '../context';
import { isPinnedImage } from '../dockerfile';
import { buildOf, imageOf, services } from '../services';

const topLevelKeys = new Set(['name', 'services', 'volumes', 'networks', 'configs', 'secrets', 'include', 'models']);

/** The modern Compose specification's shape: no `version:`, services present, no unknown top-level keys. */
export function checkStructure(context: CheckContext): string[] {
  const problems: string[] = [];
  if ('version' in context.compose) {
    problems.push('`version:` is obsolete in the Compose specification (Compose v2 warns and ignores it); remove it');
  }
  for (const key of Object.keys(context.compose)) {
    if (!topLevelKeys.has(key) && !key.startsWith('x-')) {
      problems.push(`unknown top-level key "${key}" (extension fields must start with x-)`);
    }
  }
  if (!isRecord(context.compose.services) || Object.keys(context.compose.services).length === 0) {
    problems.push('no services');
  }
  for (const [name, service] of services(context)) {
    if (Object.keys(service).length === 0) problems.push(`${name}: empty service definition`);
  }
  return problems;
}

/** Every service has an image or a build, and a build's context and Dockerfile exist. */
export function checkImagesAndBuilds(context: CheckContext): string[] {
  const problems: string[] = [];
  for (const [name, service] of services(context)) {
    const build = buildOf(service);
    const image = imageOf(service);
    if (!build && !image) {
      problems.push(`${name}: neither image nor build`);
    } else if (!build) {
      if (!isPinnedImage(image)) {
        problems.push(`${name}: image ${image} has no tag; pin one so that every machine runs the same`);
      }
    } else {
      if (!context.files.exists(build.context)) problems.push(`${name}: build context ${build.context} does not exist`);
      const dockerfile = path.posix.join(build.context, build.dockerfile);
      if (!context.files.read(dockerfile)) problems.push(`${name}: ${dockerfile} does not exist`);
    }
  }
  return problems;
}
