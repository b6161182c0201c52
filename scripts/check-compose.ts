/**
 * Static checks of docker-compose.yml, the Dockerfile, .dockerignore and the
 * PostgreSQL init script against the code, for machines without a Docker
 * engine (CI, and this project's own):
 *
 *   npm run check:compose
 *
 * Exits 1 with the list of problems, 0 with a one-line summary per rule. What
 * it catches: an environment variable that src/config.ts does not read (a
 * typo silently becomes a default), a database URL the app would reject or
 * that points at a database the init script does not create, a `depends_on`
 * target that does not exist, a worker command for an unknown service, search
 * attributes that differ from src/temporal/search-attributes.ts, colliding
 * published ports, a Dockerfile COPY of a missing file, and more; each rule
 * below says what it checks. `docker compose config -q` is run as well when a
 * Compose client is installed (it needs no engine); otherwise that part is
 * reported as skipped.
 *
 * The rules are exported for tests/compose.test.ts, which runs them on the
 * real files and on broken copies.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError, configVariableNames, loadConfig, projectRoot } from '../src/config';
import { assertSupportedPostgresUrl, databaseIdentity, databaseProvider, databaseUrlVariable } from '../src/db/url';
import { serviceNames, type ServiceName } from '../src/temporal/names';
import { orderSearchAttributes } from '../src/temporal/search-attributes';

// ---------------------------------------------------------------------------
// files

/** Read access to the project's files, so tests can check edited copies in memory. */
export interface ProjectFiles {
  /** The text of a file (path relative to the project root), or undefined if there is none. */
  read(relativePath: string): string | undefined;
  /** Whether a file or directory exists. */
  exists(relativePath: string): boolean;
  /** The entries of a directory, or undefined if it is not one. */
  list(relativePath: string): string[] | undefined;
}

export function diskFiles(root: string = projectRoot): ProjectFiles {
  const resolve = (relativePath: string) => path.resolve(root, relativePath);
  return {
    read(relativePath) {
      const file = resolve(relativePath);
      return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
    },
    exists: (relativePath) => existsSync(resolve(relativePath)),
    list(relativePath) {
      const dir = resolve(relativePath);
      return existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir) : undefined;
    },
  };
}

/** `base` with some files replaced (a string) or deleted (null). */
export function overlayFiles(base: ProjectFiles, overrides: Record<string, string | null>): ProjectFiles {
  const key = (relativePath: string) => path.posix.normalize(relativePath.split(path.sep).join('/'));
  const changed = new Map(Object.entries(overrides).map(([file, text]) => [key(file), text]));
  return {
    read: (relativePath) => {
      const override = changed.get(key(relativePath));
      return override === undefined ? base.read(relativePath) : (override ?? undefined);
    },
    exists: (relativePath) => {
      const override = changed.get(key(relativePath));
      return override === undefined ? base.exists(relativePath) : override !== null;
    },
    list: (relativePath) => base.list(relativePath),
  };
}

// ---------------------------------------------------------------------------
// parsing: docker-compose.yml

export const composeFileName = 'docker-compose.yml';
export const dockerfileName = 'Dockerfile';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Compose's variable interpolation with no variables set: `${VAR:-default}`
 * and `${VAR-default}` take the default, `${VAR:+x}` is empty, `$$` is a
 * literal `$`. Any other reference is reported: the check would not know the
 * value (and neither would a fresh checkout without a .env file).
 */
export function interpolate(text: string, where: string, problems: string[]): string {
  return text.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, body: string, braced?: string, operator?: string, operand?: string, bare?: string) => {
      if (body === '$') return '$';
      if (operator === '-' || operator === ':-') return operand ?? '';
      if (operator === '+' || operator === ':+') return '';
      problems.push(
        `${where}: \${${braced ?? bare}} has no default; the check (and a fresh checkout) cannot know its value. ` +
          'Give it one (${VAR:-value}), or write $$ for a literal $',
      );
      return '';
    },
  );
}

function interpolateAll(value: unknown, where: string, problems: string[]): unknown {
  if (typeof value === 'string') return interpolate(value, where, problems);
  if (Array.isArray(value)) return value.map((item, index) => interpolateAll(item, `${where}[${index}]`, problems));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateAll(item, `${where}.${key}`, problems)]),
    );
  }
  return value;
}

export interface ParsedCompose {
  compose: Json | undefined;
  problems: string[];
}

/** YAML (1.1 merge keys, as Compose resolves them) to a plain object, interpolated. */
export function parseCompose(text: string, fileName = composeFileName): ParsedCompose {
  const document = parseDocument(text, { merge: true, prettyErrors: true });
  const problems = [...document.errors, ...document.warnings].map((error) => `${fileName}: ${error.message}`);
  if (document.errors.length > 0) return { compose: undefined, problems };
  const value: unknown = document.toJS({ maxAliasCount: 1000 });
  if (!isRecord(value)) return { compose: undefined, problems: [...problems, `${fileName}: not a YAML mapping`] };
  const compose = interpolateAll(value, fileName, problems) as Json;
  return { compose, problems };
}

// ---------------------------------------------------------------------------
// parsing: Dockerfile

export interface DockerInstruction {
  keyword: string;
  /** The text after the keyword, continuation lines joined. */
  text: string;
  line: number;
  /** Index of the build stage (FROM) it belongs to; -1 before the first FROM. */
  stage: number;
}

export interface Dockerfile {
  instructions: DockerInstruction[];
  stages: { name: string | undefined; image: string }[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: DockerInstruction[] = [];
  const stages: Dockerfile['stages'] = [];
  const lines = text.split(/\r?\n/);
  let pending: { text: string; line: number } | undefined;
  /** ARGs declared before the first FROM, which FROM lines may use. */
  const globalArgs = new Map<string, string>();
  const finish = (full: string, line: number) => {
    const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(full);
    if (!match) return;
    const keyword = (match[1] ?? '').toUpperCase();
    const rest = (match[2] ?? '').trim();
    if (keyword === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=', 2);
      globalArgs.set(name.trim(), value.trim().replace(/^(["'])(.*)\1$/, '$2'));
    }
    if (keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest);
      const image = (from?.[1] ?? '').replace(
        /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
        (reference, name: string) => globalArgs.get(name) ?? reference,
      );
      stages.push({ image, name: from?.[2] });
    }
    instructions.push({ keyword, text: rest, line, stage: stages.length - 1 });
  };
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment and blank lines are dropped, also inside a continued instruction (as Docker does).
    if (trimmed.startsWith('#') || trimmed === '') return;
    const continued = /\\\s*$/.test(raw);
    const content = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (pending) pending.text += ` ${content.trim()}`;
    else pending = { text: content, line: index + 1 };
    if (!continued) {
      finish(pending.text, pending.line);
      pending = undefined;
    }
  });
  if (pending) finish(pending.text, pending.line);
  return { instructions, stages };
}

/** Exec form (a JSON array) or shell form, as argv. Shell form is split on whitespace, honouring quotes. */
export function parseArgv(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed;
    } catch {
      // Not valid JSON: Docker runs it in a shell, and so is it parsed here.
    }
  }
  return splitShellWords(trimmed);
}

function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] ?? '';
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && index + 1 < text.length) current += text[++index] ?? '';
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      if (char === '\\' && index + 1 < text.length) current += text[++index] ?? '';
      else current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** The final stage's instructions of one keyword (CMD, ENTRYPOINT, USER, ...). */
function finalStage(dockerfile: Dockerfile, keyword: string): DockerInstruction[] {
  const last = dockerfile.stages.length - 1;
  return dockerfile.instructions.filter((instruction) => instruction.stage === last && instruction.keyword === keyword);
}

/** ENV of the final stage (`ENV A=1 B=2` and the legacy `ENV A 1`). */
export function dockerfileEnv(dockerfile: Dockerfile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { text } of finalStage(dockerfile, 'ENV')) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
      const [name = '', ...value] = text.split(/\s+/);
      env[name] = value.join(' ');
      continue;
    }
    for (const word of splitShellWords(text)) {
      const separator = word.indexOf('=');
      if (separator > 0) env[word.slice(0, separator)] = word.slice(separator + 1);
    }
  }
  return env;
}

// ---------------------------------------------------------------------------
// parsing: .dockerignore

/** Whether .dockerignore keeps `relativePath` out of the build context (last matching pattern wins, `!` re-includes). */
export function isDockerignored(dockerignore: string, relativePath: string): boolean {
  const target = relativePath.replace(/^\.\//, '').replace(/\/$/, '');
  let ignored = false;
  for (const rawLine of dockerignore.split(/\r?\n/)) {
    let pattern = rawLine.trim();
    if (pattern === '' || pattern.startsWith('#')) continue;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1).trim();
    pattern = path.posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/$/, '');
    // A pattern matches a path or any of its parent directories.
    const segments = target.split('/');
    const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
    if (candidates.some((candidate) => dockerignorePatternToRegExp(pattern).test(candidate))) ignored = !negated;
  }
  return ignored;
}

function dockerignorePatternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] ?? '';
    if (char === '*' && pattern[index + 1] === '*') {
      // `**/` matches any number of directories, including none.
      source += pattern[index + 2] === '/' ? '(?:.*/)?' : '.*';
      index += pattern[index + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

// ---------------------------------------------------------------------------
// the check's context

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

// ---------------------------------------------------------------------------
// accessors

export function services(context: CheckContext): [string, Json][] {
  const all = context.compose.services;
  if (!isRecord(all)) return [];
  return Object.entries(all).map(([name, service]) => [name, isRecord(service) ? service : {}]);
}

function buildOf(service: Json): { context: string; dockerfile: string } | undefined {
  const { build } = service;
  if (typeof build === 'string') return { context: build, dockerfile: 'Dockerfile' };
  if (isRecord(build)) {
    return {
      context: typeof build.context === 'string' ? build.context : '.',
      dockerfile: typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile',
    };
  }
  return undefined;
}

/** Built from the project's own Dockerfile: the API or a worker. */
export function isProjectService(service: Json): boolean {
  const build = buildOf(service);
  if (!build) return false;
  return path.posix.normalize(path.posix.join(build.context, build.dockerfile)) === dockerfileName;
}

function projectServices(context: CheckContext): [string, Json][] {
  return services(context).filter(([, service]) => isProjectService(service));
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

function argvOf(value: unknown): string[] | undefined {
  if (typeof value === 'string') return parseArgv(value);
  if (Array.isArray(value)) return value.map((item) => String(item));
  return undefined;
}

/** The text of a service's entrypoint and command (for searching a shell script in them). */
function commandText(service: Json): string {
  return [...(argvOf(service.entrypoint) ?? []), ...(argvOf(service.command) ?? [])].join(' ');
}

function imageOf(service: Json): string {
  return typeof service.image === 'string' ? service.image : '';
}

function isPostgresImage(service: Json): boolean {
  return /^(?:docker\.io\/)?(?:library\/)?postgres(?::|@|$)/.test(imageOf(service));
}

function hasHealthcheck(service: Json, context: CheckContext): boolean {
  const { healthcheck } = service;
  if (isRecord(healthcheck)) {
    if (healthcheck.disable === true) return false;
    if (healthcheck.test !== undefined) return !(Array.isArray(healthcheck.test) && healthcheck.test[0] === 'NONE');
  }
  // Otherwise the image's own HEALTHCHECK applies; only the project's image is known here.
  return isProjectService(service) && context.dockerfile !== undefined && imageHealthcheck(context.dockerfile);
}

function imageHealthcheck(dockerfile: Dockerfile): boolean {
  const checks = finalStage(dockerfile, 'HEALTHCHECK');
  const last = checks[checks.length - 1];
  return last !== undefined && !/^NONE\b/i.test(last.text);
}

// ---------------------------------------------------------------------------
// processes: what a project service runs

export type ProcessRole = { kind: 'api' } | { kind: 'worker'; service: ServiceName } | { kind: 'other'; file: string };

export interface ResolvedProcess {
  file: string;
  args: string[];
  role: ProcessRole;
}

const apiFile = 'src/api/server.ts';
const workerFile = 'src/workers/main.ts';
const nodeOptionsWithValue = new Set([
  '--import',
  '--require',
  '-r',
  '--loader',
  '--experimental-loader',
  '--env-file',
]);

/**
 * The TypeScript/JavaScript file a command runs and its arguments, through
 * `npm run <script>`, `npm start`, `npx tsx`, `tsx` and `node --import tsx`.
 * Returns a problem instead when the command is not one of those forms or
 * names something that does not exist.
 */
export function resolveProcess(argv: string[], context: CheckContext, depth = 0): ResolvedProcess | string {
  const [program = '', ...rest] = argv;
  const shown = argv.join(' ');
  if (depth > 3) return `${shown}: npm scripts call each other too deeply to follow`;
  if (argv.some((word) => ['&&', '||', ';', '|'].includes(word))) {
    return `${shown}: a shell pipeline; run one process (exec form), so that it receives SIGTERM itself`;
  }
  if (program === 'npm') {
    const [sub = '', ...subArgs] = rest;
    const scriptName = sub === 'run' || sub === 'run-script' ? subArgs.shift() : sub === 'start' ? 'start' : undefined;
    if (scriptName === undefined) return `${shown}: only \`npm run <script>\` and \`npm start\` are understood`;
    const script = context.scripts[scriptName];
    if (script === undefined) return `${shown}: package.json has no script "${scriptName}"`;
    const extra = subArgs[0] === '--' ? subArgs.slice(1) : subArgs;
    return chain(shown, resolveProcess([...splitShellWords(script), ...extra], context, depth + 1));
  }
  if (program === 'npx') {
    const words = rest.filter((word) => word !== '--yes' && word !== '-y' && word !== '--no-install');
    return chain(shown, resolveProcess(words, context, depth + 1));
  }
  let file: string | undefined;
  let args: string[] = [];
  if (program === 'tsx') {
    [file, ...args] = rest;
  } else if (program === 'node') {
    let usesTsx = false;
    let index = 0;
    while (index < rest.length && (rest[index] ?? '').startsWith('-')) {
      const option = rest[index] ?? '';
      const [name, inlineValue] = option.split('=', 2);
      const value = inlineValue ?? (nodeOptionsWithValue.has(name ?? '') ? rest[++index] : undefined);
      if ((name === '--import' || name === '--require' || name === '-r' || name === '--loader') && value === 'tsx') {
        usesTsx = true;
      }
      index++;
    }
    [file, ...args] = rest.slice(index);
    if (file !== undefined && /\.[mc]?ts$/.test(file) && !usesTsx) {
      return `${shown}: node cannot run TypeScript without --import tsx`;
    }
  } else {
    return `${shown}: not a command this check understands (npm run, npx tsx, tsx, node --import tsx)`;
  }
  if (file === undefined) return `${shown}: names no file to run`;
  const normalized = path.posix.normalize(file.replace(/^\.\//, ''));
  if (!context.files.exists(normalized)) return `${shown}: ${normalized} does not exist`;
  if (normalized === apiFile) return { file: normalized, args, role: { kind: 'api' } };
  if (normalized === workerFile) {
    const service = args[0];
    if (!serviceNames.includes(service as ServiceName)) {
      return `${shown}: the worker needs one of ${serviceNames.join(', ')} as its argument (got ${service ?? 'none'})`;
    }
    return { file: normalized, args, role: { kind: 'worker', service: service as ServiceName } };
  }
  if (normalized === 'src/start.ts') {
    return `${shown}: src/start.ts runs every process (and a dev server) in one container; give each its own service`;
  }
  return { file: normalized, args, role: { kind: 'other', file: normalized } };
}

/** A nested resolution's problem, prefixed with the command that led there (npm start → tsx src/start.ts: ...). */
function chain(shown: string, inner: ResolvedProcess | string): ResolvedProcess | string {
  return typeof inner === 'string' ? `${shown} → ${inner}` : inner;
}

/** What a project service's container runs: compose's entrypoint/command over the Dockerfile's. */
export function serviceArgv(service: Json, dockerfile: Dockerfile | undefined): string[] | undefined {
  const entrypoint = argvOf(service.entrypoint);
  const command = argvOf(service.command);
  if (entrypoint) return [...entrypoint, ...(command ?? [])];
  const imageEntrypoint = dockerfile ? finalStage(dockerfile, 'ENTRYPOINT').at(-1) : undefined;
  const imageCmd = dockerfile ? finalStage(dockerfile, 'CMD').at(-1) : undefined;
  const base = imageEntrypoint ? parseArgv(imageEntrypoint.text) : [];
  const tail = command ?? (imageCmd ? parseArgv(imageCmd.text) : undefined);
  if (!tail && base.length === 0) return undefined;
  return [...base, ...(tail ?? [])];
}

export function projectProcesses(context: CheckContext): Map<string, ResolvedProcess | string> {
  const result = new Map<string, ResolvedProcess | string>();
  for (const [name, service] of projectServices(context)) {
    const argv = serviceArgv(service, context.dockerfile);
    result.set(name, argv ? resolveProcess(argv, context) : 'no command, and the Dockerfile has no CMD');
  }
  return result;
}

// ---------------------------------------------------------------------------
// the rules

export interface Rule {
  name: string;
  description: string;
  check: (context: CheckContext) => string[];
}

/** Nearest known name, for "did you mean" in a typo report. */
function suggestion(name: string, known: readonly string[]): string {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toUpperCase(), candidate.toUpperCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best.candidate}?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

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
    if (!build && !imageOf(service)) {
      problems.push(`${name}: neither image nor build`);
      continue;
    }
    if (!build) {
      if (!/:[^/]+$|@sha256:/.test(imageOf(service))) {
        problems.push(`${name}: image ${imageOf(service)} has no tag; pin one so that every machine runs the same`);
      }
      continue;
    }
    if (!context.files.exists(build.context)) problems.push(`${name}: build context ${build.context} does not exist`);
    const dockerfile = path.posix.join(build.context, build.dockerfile);
    if (!context.files.read(dockerfile)) problems.push(`${name}: ${dockerfile} does not exist`);
  }
  return problems;
}

/**
 * Project services get only variables that src/config.ts reads (a typo or a
 * renamed variable would otherwise fall back to its default without a word),
 * and their values pass the app's own validation (loadConfig).
 */
export function checkProjectEnvironment(context: CheckContext): string[] {
  const problems: string[] = [];
  const known = new Set(configVariableNames);
  for (const [name, service] of projectServices(context)) {
    const environment = environmentOf(service);
    for (const key of Object.keys(environment)) {
      if (!known.has(key)) {
        problems.push(`${name}: ${key} is not a variable src/config.ts reads${suggestion(key, configVariableNames)}`);
      }
    }
    const values = Object.fromEntries(
      Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    try {
      loadConfig({ ...dockerfileEnvOf(context), ...values });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(`${name}: ${error.message.replace(/\n\s*/g, ' ')}`);
    }
  }
  return problems;
}

function dockerfileEnvOf(context: CheckContext): Record<string, string> {
  return context.dockerfile ? dockerfileEnv(context.dockerfile) : {};
}

/** The effective environment of a project service: the Dockerfile's ENV, then compose's. */
function effectiveEnvironment(context: CheckContext, service: Json): Record<string, string | undefined> {
  return { ...dockerfileEnvOf(context), ...environmentOf(service) };
}

interface PostgresInit {
  databases: Set<string>;
  /** Login roles and their passwords (undefined: none set). */
  roles: Map<string, string | undefined>;
  sources: string[];
}

/** Databases and roles a postgres service has after its first start: the image's own, then its init scripts'. */
export function postgresInit(context: CheckContext, service: Json): PostgresInit {
  const environment = environmentOf(service);
  const superuser = environment.POSTGRES_USER ?? 'postgres';
  const init: PostgresInit = {
    databases: new Set([environment.POSTGRES_DB ?? superuser]),
    roles: new Map([[superuser, environment.POSTGRES_PASSWORD]]),
    sources: [],
  };
  for (const mount of bindMounts(service)) {
    if (!mount.target.startsWith('/docker-entrypoint-initdb.d')) continue;
    const entries = context.files.list(mount.source);
    const sqlFiles = entries
      ? entries.filter((entry) => entry.endsWith('.sql')).map((entry) => path.posix.join(mount.source, entry))
      : mount.source.endsWith('.sql')
        ? [mount.source]
        : [];
    for (const file of sqlFiles) {
      const sql = context.files.read(file);
      if (sql === undefined) continue;
      init.sources.push(file);
      const statements = sql.replace(/--[^\n]*/g, '');
      for (const match of statements.matchAll(/\bCREATE\s+DATABASE\s+("?)([A-Za-z0-9_]+)\1/gi)) {
        init.databases.add(identifier(match[2] ?? '', match[1] === '"'));
      }
      for (const match of statements.matchAll(/\bCREATE\s+(ROLE|USER)\s+("?)([A-Za-z0-9_]+)\2([^;]*)/gi)) {
        const options = match[4] ?? '';
        if ((match[1] ?? '').toUpperCase() === 'ROLE' && !/\bLOGIN\b/i.test(options)) continue;
        init.roles.set(identifier(match[3] ?? '', match[2] === '"'), /\bPASSWORD\s+'([^']*)'/i.exec(options)?.[1]);
      }
    }
  }
  return init;
}

/** PostgreSQL folds unquoted identifiers to lower case. */
function identifier(name: string, quoted: boolean): string {
  return quoted ? name : name.toLowerCase();
}

interface BindMount {
  source: string;
  target: string;
}

function bindMounts(service: Json): BindMount[] {
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

/**
 * Database URLs: accepted by the app (provider from the scheme, no ?schema=),
 * PostgreSQL in compose (a file: database would live and die with its
 * container), pointing at a postgres service of this file, at a database and
 * a login role (with that password) its init script creates; one database per
 * service, and the same URL wherever a service's database is named.
 */
export function checkDatabaseUrls(context: CheckContext): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  const urlsByService = new Map<ServiceName, Map<string, string[]>>();
  for (const [name, service] of projectServices(context)) {
    const environment = environmentOf(service);
    const identities = new Map<string, ServiceName>();
    for (const owner of serviceNames) {
      const variable = databaseUrlVariable(owner);
      const url = environment[variable];
      if (url === undefined) continue;
      const where = `${name}: ${variable}`;
      const users = urlsByService.get(owner) ?? new Map<string, string[]>();
      users.set(url, [...(users.get(url) ?? []), name]);
      urlsByService.set(owner, users);
      let provider;
      try {
        provider = databaseProvider(url);
        if (provider === 'postgres') assertSupportedPostgresUrl(url);
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
        continue;
      }
      if (provider === 'sqlite') {
        problems.push(
          `${where}: a file: (SQLite) database would be lost with its container; use the PostgreSQL service`,
        );
        continue;
      }
      const identity = databaseIdentity(url);
      const other = identities.get(identity);
      if (other) {
        problems.push(`${where}: the same database as ${databaseUrlVariable(other)}; each service needs its own`);
      }
      identities.set(identity, owner);
      problems.push(...checkPostgresTarget(context, all, where, new URL(url)));
    }
  }
  for (const [owner, users] of urlsByService) {
    if (users.size > 1) {
      const list = [...users.values()].map((names) => names.join(', ')).join(' vs ');
      problems.push(
        `${databaseUrlVariable(owner)} differs between services (${list}): they must name the same database`,
      );
    }
  }
  return problems;
}

function checkPostgresTarget(context: CheckContext, all: Map<string, Json>, where: string, url: URL): string[] {
  const host = url.hostname;
  const target = all.get(host);
  if (!target) return [`${where}: host "${host}" is not a service of ${composeFileName}`];
  if (!isPostgresImage(target)) return [`${where}: service "${host}" is not a postgres image (${imageOf(target)})`];
  const problems: string[] = [];
  if ((url.port || '5432') !== '5432') problems.push(`${where}: port ${url.port}, but ${host} listens on 5432`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const user = decodeURIComponent(url.username);
  const init = postgresInit(context, target);
  const scripts = init.sources.length > 0 ? init.sources.join(', ') : `${host}'s environment (no init script)`;
  if (!database) problems.push(`${where}: names no database`);
  else if (!init.databases.has(database)) {
    problems.push(`${where}: database "${database}" is not created by ${scripts}`);
  }
  if (!user) problems.push(`${where}: names no user`);
  else if (!init.roles.has(user)) problems.push(`${where}: role "${user}" is not created (with LOGIN) by ${scripts}`);
  else if (init.roles.get(user) !== undefined && init.roles.get(user) !== decodeURIComponent(url.password)) {
    problems.push(`${where}: the password of "${user}" differs from the one ${scripts} sets`);
  }
  return problems;
}

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

/**
 * What each process needs: a worker its own database URL and no other
 * service's (database per service), the API all four (its readiness check
 * pings them) and to listen on 0.0.0.0 on the port it publishes; everyone a
 * TEMPORAL_ADDRESS that names a service here; workers must not inherit the
 * image's HTTP healthcheck, which only the API can answer.
 */
export function checkProcessNeeds(context: CheckContext): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  for (const [name, resolved] of projectProcesses(context)) {
    if (typeof resolved === 'string') continue;
    const service = all.get(name) ?? {};
    const environment = effectiveEnvironment(context, service);
    const address = environment.TEMPORAL_ADDRESS;
    if (address === undefined) {
      problems.push(`${name}: TEMPORAL_ADDRESS is not set (its default, 127.0.0.1:7233, is the container itself)`);
    } else {
      const host = address.replace(/:\d+$/, '');
      if (!all.has(host)) problems.push(`${name}: TEMPORAL_ADDRESS ${address}: "${host}" is not a service here`);
    }
    const { role } = resolved;
    const urlVariables = serviceNames.filter((owner) => environment[databaseUrlVariable(owner)] !== undefined);
    if (role.kind === 'worker') {
      if (!urlVariables.includes(role.service)) {
        problems.push(
          `${name}: ${databaseUrlVariable(role.service)} is not set (the default is a SQLite file in the container)`,
        );
      }
      for (const owner of urlVariables.filter((owner) => owner !== role.service)) {
        problems.push(
          `${name}: the ${role.service} worker is given ${databaseUrlVariable(owner)}; a service opens only its own database`,
        );
      }
      if (hasHealthcheck(service, context) && !isRecord(service.healthcheck)) {
        problems.push(
          `${name}: inherits the image's HTTP healthcheck, which a worker cannot answer; set healthcheck.disable`,
        );
      }
    }
    if (role.kind === 'api') {
      for (const owner of serviceNames.filter((owner) => !urlVariables.includes(owner))) {
        problems.push(
          `${name}: ${databaseUrlVariable(owner)} is not set; the API's readiness check pings every service's database`,
        );
      }
      const host = environment.API_HOST;
      if (host !== '0.0.0.0' && host !== '::') {
        problems.push(`${name}: API_HOST is ${host ?? 'unset (127.0.0.1)'}; in a container it must be 0.0.0.0`);
      }
      const port = Number(environment.API_PORT ?? 3000);
      const published = parsePorts(service.ports, name, []);
      if (published.length > 0 && !published.some((mapping) => mapping.target === port)) {
        problems.push(
          `${name}: publishes container port(s) ${published.map((m) => m.target).join(', ')}, but listens on API_PORT ${port}`,
        );
      }
    }
  }
  return problems;
}

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
export interface SearchAttributeRegistration {
  service: string;
  namespace: string;
  attributes: { name: string; type: string }[];
}

export function registeredSearchAttributes(context: CheckContext): SearchAttributeRegistration[] {
  const found: SearchAttributeRegistration[] = [];
  for (const [name, service] of services(context)) {
    const text = commandText(service).replace(/\\\n/g, ' ');
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
 * types), in the namespace the app uses, and every worker waits for that
 * registration to complete.
 */
export function checkSearchAttributes(context: CheckContext): string[] {
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
    if (typeof resolved === 'string' || resolved.role.kind !== 'worker') continue;
    const dependsOn = dependsOnOf(all.get(name) ?? {});
    const waits = [...registrars].some((registrar) => dependsOn[registrar] === 'service_completed_successfully');
    if (!waits) {
      problems.push(`${name}: does not wait for ${[...registrars].join(' or ')} (service_completed_successfully)`);
    }
  }
  return problems;
}

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

const dockerfileEnvAllowed = new Set(['NODE_ENV', 'NODE_OPTIONS', 'PATH', 'TZ']);
const essentialPaths = ['package.json', 'package-lock.json', 'src', 'prisma', 'prisma.config.ts', 'scripts/prisma.ts'];
const mustBeIgnored = ['node_modules', 'generated', 'data', '.git'];

/**
 * The Dockerfile, lightly: FROM comes first with a pinned image, COPY/ADD
 * sources exist in the build context and are not excluded by .dockerignore,
 * the default command starts the API, the final stage runs as a non-root
 * USER, its ENV names are variables the app reads, and .dockerignore keeps
 * host-built and state directories out.
 */
export function checkDockerfile(context: CheckContext): string[] {
  const { dockerfile } = context;
  if (!dockerfile) return [`${dockerfileName} does not exist`];
  const problems: string[] = [];
  const dockerignore = context.files.read('.dockerignore') ?? '';
  const first = dockerfile.instructions.find((instruction) => instruction.keyword !== 'ARG');
  if (!first || first.keyword !== 'FROM') {
    problems.push(`${dockerfileName}: the first instruction (after ARGs) must be FROM`);
  }
  const stageNames = new Set(dockerfile.stages.map((stage) => stage.name));
  for (const stage of dockerfile.stages) {
    if (!stage.image) problems.push(`${dockerfileName}: a FROM without an image`);
    else if (!stageNames.has(stage.image) && !/:[^/]+$|@sha256:/.test(stage.image)) {
      problems.push(`${dockerfileName}: FROM ${stage.image} has no tag; pin one`);
    }
  }
  for (const instruction of dockerfile.instructions) {
    if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') continue;
    const words = parseArgv(instruction.text);
    if (words.some((word) => word.startsWith('--from='))) continue;
    const sources = words.filter((word) => !word.startsWith('--')).slice(0, -1);
    if (sources.length === 0) {
      problems.push(`${dockerfileName}:${instruction.line}: ${instruction.keyword} without a source`);
    }
    for (const source of sources) {
      if (/^https?:\/\//.test(source)) continue;
      const literal = source.split(/[*?[]/)[0] ?? '';
      const checked = path.posix.normalize(literal === source ? source : path.posix.dirname(`${literal}x`));
      if (!context.files.exists(checked)) {
        problems.push(`${dockerfileName}:${instruction.line}: ${instruction.keyword} source ${source} does not exist`);
      } else if (checked !== '.' && isDockerignored(dockerignore, checked)) {
        problems.push(`${dockerfileName}:${instruction.line}: ${source} is excluded by .dockerignore`);
      }
    }
  }
  const defaultArgv = serviceArgv({}, dockerfile);
  const defaultProcess = defaultArgv ? resolveProcess(defaultArgv, context) : 'there is no CMD';
  if (typeof defaultProcess === 'string') problems.push(`${dockerfileName}: default command: ${defaultProcess}`);
  else if (defaultProcess.role.kind !== 'api') {
    problems.push(
      `${dockerfileName}: the default command runs ${defaultProcess.file}; it should start the API (${apiFile})`,
    );
  }
  const users = finalStage(dockerfile, 'USER');
  const user = users[users.length - 1]?.text.split(':')[0];
  if (user === undefined || user === 'root' || user === '0') {
    problems.push(`${dockerfileName}: the final stage runs as root; add a USER (node:20 images have "node")`);
  }
  for (const key of Object.keys(dockerfileEnv(dockerfile))) {
    if (!configVariableNames.includes(key) && !dockerfileEnvAllowed.has(key)) {
      problems.push(
        `${dockerfileName}: ENV ${key} is not a variable src/config.ts reads${suggestion(key, configVariableNames)}`,
      );
    }
  }
  if (!context.files.read('.dockerignore')) {
    problems.push('.dockerignore does not exist: node_modules and generated/ from the host would enter the image');
  } else {
    for (const entry of essentialPaths.filter((entry) => isDockerignored(dockerignore, entry))) {
      problems.push(`.dockerignore excludes ${entry}, which the image needs`);
    }
    for (const entry of mustBeIgnored.filter((entry) => !isDockerignored(dockerignore, entry))) {
      problems.push(`.dockerignore does not exclude ${entry}/ (host-built or local state)`);
    }
  }
  return problems;
}

export const rules: Rule[] = [
  { name: 'structure', description: 'Compose specification shape', check: checkStructure },
  {
    name: 'images',
    description: 'every service has a pinned image or a build with a Dockerfile',
    check: checkImagesAndBuilds,
  },
  {
    name: 'environment',
    description: 'project services get only variables src/config.ts reads, valid values',
    check: checkProjectEnvironment,
  },
  {
    name: 'database-urls',
    description: 'database URLs are valid and point at databases and roles the init script creates',
    check: checkDatabaseUrls,
  },
  { name: 'depends-on', description: 'depends_on targets exist, conditions hold, no cycle', check: checkDependsOn },
  {
    name: 'commands',
    description: 'commands exist; the API and exactly one worker per service run',
    check: checkCommands,
  },
  {
    name: 'process-needs',
    description: 'each process gets the variables and healthcheck it needs',
    check: checkProcessNeeds,
  },
  {
    name: 'search-attributes',
    description: 'registered search attributes equal src/temporal/search-attributes.ts',
    check: checkSearchAttributes,
  },
  { name: 'ports', description: 'published ports are valid and do not collide', check: checkPorts },
  { name: 'bind-mounts', description: 'bind-mounted files exist', check: checkBindMounts },
  { name: 'dockerfile', description: 'Dockerfile and .dockerignore', check: checkDockerfile },
];

export interface RuleResult {
  rule: string;
  description: string;
  problems: string[];
}

/** Runs every rule. Loading problems (YAML errors) come first, as rule "yaml". */
export function runChecks(files: ProjectFiles = diskFiles()): RuleResult[] {
  const { context, problems } = loadContext(files);
  const results: RuleResult[] = [{ rule: 'yaml', description: `${composeFileName} parses`, problems }];
  if (!context) return results;
  for (const rule of rules) {
    results.push({ rule: rule.name, description: rule.description, problems: rule.check(context) });
  }
  return results;
}

// ---------------------------------------------------------------------------
// docker compose config (when a Compose client is installed)

export interface ExternalCheck {
  status: 'ok' | 'failed' | 'skipped';
  detail: string;
}

/** `docker compose config -q`: Compose's own validation. Needs a Compose client, not an engine. */
export function dockerComposeConfig(root: string = projectRoot): ExternalCheck {
  const candidates: [string, string[]][] = [
    ['docker', ['compose']],
    ['docker-compose', []],
  ];
  const unavailable: string[] = [];
  for (const [program, prefix] of candidates) {
    const version = spawnSync(program, [...prefix, 'version'], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    if (version.error || version.status !== 0) {
      const why = version.error
        ? ((version.error as NodeJS.ErrnoException).code ?? version.error.message)
        : firstLine(version.stderr);
      unavailable.push(`${[program, ...prefix].join(' ')}: ${why}`);
      continue;
    }
    const run = spawnSync(program, [...prefix, '-f', composeFileName, 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const command = `${[program, ...prefix].join(' ')} -f ${composeFileName} config -q`;
    if (run.status === 0) return { status: 'ok', detail: `${command} (${firstLine(version.stdout)})` };
    const output = `${run.stderr}${run.stdout}`.trim();
    if (/daemon|docker engine|cannot connect/i.test(output)) {
      return { status: 'skipped', detail: `${command} needs an engine here: ${firstLine(output)}` };
    }
    return { status: 'failed', detail: `${command}:\n${output}` };
  }
  return { status: 'skipped', detail: `no Compose client (${unavailable.join('; ')})` };
}

function firstLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n')[0] ?? '';
}

// ---------------------------------------------------------------------------
// CLI

/** The CLI's output for a set of results: one line per rule (or per problem), then a summary. */
export function report(results: RuleResult[], external: ExternalCheck): { exitCode: number; lines: string[] } {
  const lines: string[] = [];
  let failures = 0;
  for (const { rule, description, problems } of results) {
    if (problems.length === 0) lines.push(`ok    ${rule}: ${description}`);
    for (const problem of problems) lines.push(`FAIL  ${rule}: ${problem}`);
    failures += problems.length;
  }
  const label = 'docker compose config';
  if (external.status === 'ok') lines.push(`ok    ${label}: ${external.detail}`);
  else if (external.status === 'skipped') lines.push(`SKIP  ${label}: ${external.detail}`);
  else {
    failures++;
    lines.push(`FAIL  ${label}: ${external.detail}`);
  }
  const skipped = external.status === 'skipped' ? '; docker compose config skipped' : '';
  lines.push(
    failures === 0
      ? `check:compose passed: ${results.length} rules${skipped}`
      : `check:compose failed: ${failures} problem(s)${skipped}`,
  );
  return { exitCode: failures === 0 ? 0 : 1, lines };
}

function main(): number {
  const { exitCode, lines } = report(runChecks(), dockerComposeConfig());
  for (const line of lines) console.log(line);
  return exitCode;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main();
}
