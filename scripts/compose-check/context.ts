import { composeFileName, isRecord, parseCompose, type Json } from './compose-file';
import { dockerfileName, parseDockerfile, type Dockerfile } from './dockerfile';
import { diskFiles, type ProjectFiles } from './files';

/** What every rule checks: the parsed files. */
export interface CheckContext {
  files: ProjectFiles;
  /** docker-compose.yml, parsed and interpolated. */
  compose: Json;
  /** The project's Dockerfile, parsed (undefined if missing). */
  dockerfile: Dockerfile | undefined;
  /** package.json's scripts. */
  scripts: Record<string, string>;
}

export interface LoadedContext {
  context: CheckContext | undefined;
  /** Problems that prevent checking at all (unreadable YAML), or found while loading. */
  problems: string[];
}

export function loadContext(files: ProjectFiles = diskFiles(), composeFile = composeFileName): LoadedContext {
  const text = files.read(composeFile);
  if (text === undefined) return { context: undefined, problems: [`${composeFile} does not exist`] };
  const { compose, problems } = parseCompose(text, composeFile);
  if (!compose) return { context: undefined, problems };
  const dockerfileText = files.read(dockerfileName);
  const pkg: unknown = JSON.parse(files.read('package.json') ?? '{}');
  const scripts = isRecord(pkg) && isRecord(pkg.scripts) ? pkg.scripts : {};
  return {
    context: {
      files,
      compose,
      dockerfile: dockerfileText === undefined ? undefined : parseDockerfile(dockerfileText),
      scripts: Object.fromEntries(
        Object.entries(scripts).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      ),
    },
    problems,
  };
}
