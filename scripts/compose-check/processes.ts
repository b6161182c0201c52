/** What a project service runs: its command, followed through npm scripts to the file and its role. */
import path from 'node:path';
import { databaseNames, isDatabaseName, readModelDatabase, type DatabaseName } from '../../src/db/layout';
import { serviceNames, type ServiceName } from '../../src/temporal/names';
import type { Json } from './compose-file';
import type { CheckContext } from './context';
import { finalStage, parseArgv, splitShellWords, type Dockerfile } from './dockerfile';
import { argvOf, projectServices } from './services';

export type PartnerName = 'gateway' | 'carrier';

export type ProcessRole =
  | { kind: 'api' }
  | { kind: 'worker'; service: ServiceName }
  | { kind: 'partner'; partner: PartnerName }
  /** src/codec-server/main.ts: decrypts payloads for the Web UI; talks to no Temporal server. */
  | { kind: 'codec-server' }
  /** `scripts/prisma.ts migrate [database...]` (npm run db:migrate): a one-shot that migrates these databases. */
  | { kind: 'migrate'; databases: DatabaseName[] }
  | { kind: 'other'; file: string };

export interface ResolvedProcess {
  file: string;
  args: string[];
  role: ProcessRole;
}

export const apiFile = 'src/api/server.ts';
export const workerFile = 'src/workers/main.ts';
export const prismaScriptFile = 'scripts/prisma.ts';
export const codecServerFile = 'src/codec-server/main.ts';
export const partnerFiles: Record<PartnerName, string> = {
  gateway: 'simulators/gateway/main.ts',
  carrier: 'simulators/carrier/main.ts',
};
const nodeOptionsWithValue = new Set([
  '--import',
  '--require',
  '-r',
  '--loader',
  '--experimental-loader',
  '--env-file',
]);
const nodeOptionsLoadingTsx = new Set(['--import', '--require', '-r', '--loader']);

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
      const [name = '', inlineValue] = (rest[index] ?? '').split('=', 2);
      const value = inlineValue ?? (nodeOptionsWithValue.has(name) ? rest[++index] : undefined);
      if (nodeOptionsLoadingTsx.has(name) && value === 'tsx') usesTsx = true;
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
  if (normalized === codecServerFile) return { file: normalized, args, role: { kind: 'codec-server' } };
  const partner = (Object.keys(partnerFiles) as PartnerName[]).find((name) => partnerFiles[name] === normalized);
  if (partner) return { file: normalized, args, role: { kind: 'partner', partner } };
  if (normalized === workerFile) {
    const service = args[0];
    if (!serviceNames.includes(service as ServiceName)) {
      return `${shown}: the worker needs one of ${serviceNames.join(', ')} as its argument (got ${service ?? 'none'})`;
    }
    return { file: normalized, args, role: { kind: 'worker', service: service as ServiceName } };
  }
  if (normalized === prismaScriptFile && args[0] === 'migrate') {
    const named = args.slice(1);
    const unknown = named.find((database) => !isDatabaseName(database));
    if (unknown !== undefined) {
      return `${shown}: migrates an unknown database "${unknown}" (one of ${databaseNames.join(', ')})`;
    }
    const databases = named.length === 0 ? [...databaseNames] : (named as DatabaseName[]);
    return { file: normalized, args, role: { kind: 'migrate', databases } };
  }
  if (normalized === 'tooling/start/main.ts') {
    return `${shown}: tooling/start/main.ts runs every process (and a dev server) in one container; give each its own service`;
  }
  return { file: normalized, args, role: { kind: 'other', file: normalized } };
}

/**
 * The databases a process opens, so needs the URL of: a worker its own
 * service's and the read model's (its outbox relay writes events there), the
 * API every one (its readiness check pings them; the order list and event
 * routes read the read model), a migration job those it migrates.
 */
export function databasesUsedBy(role: ProcessRole): DatabaseName[] {
  switch (role.kind) {
    case 'worker':
      return [role.service, readModelDatabase];
    case 'api':
      return [...databaseNames];
    case 'migrate':
      return role.databases;
    default:
      return [];
  }
}

/** Whether a process migrates a database itself before using it: a worker its own service's (src/workers/main.ts). */
export function migratesAtStart(role: ProcessRole, database: DatabaseName): boolean {
  return role.kind === 'worker' && role.service === database;
}

/** A nested resolution's problem, prefixed with the command that led there (npm start → tsx tooling/start/main.ts: ...). */
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

/** Each project service's resolved process, or the problem that prevented resolving it. */
export function projectProcesses(context: CheckContext): Map<string, ResolvedProcess | string> {
  const result = new Map<string, ResolvedProcess | string>();
  for (const [name, service] of projectServices(context)) {
    const argv = serviceArgv(service, context.dockerfile);
    result.set(name, argv ? resolveProcess(argv, context) : 'no command, and the Dockerfile has no CMD');
  }
  return result;
}
