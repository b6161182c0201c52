/**
 * Runs the Prisma CLI (node_modules/prisma) for one database and provider, with
 * the environment prisma.config.ts reads. Used by scripts/prisma.ts and by
 * applyMigrations.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { projectRoot, type DatabaseName, type DatabaseProvider } from './layout';
import { redactUrl } from './url';

export interface PrismaTarget {
  /** A service's database or the read model's (prisma.config.ts reads it as PRISMA_SERVICE). */
  service: DatabaseName;
  provider: DatabaseProvider;
  /** The database URL; commands that need no database (generate) may omit it. */
  url?: string;
}

export interface PrismaCliOptions {
  /** Also copy the CLI's output to this process's stdout/stderr as it comes. */
  echo?: boolean;
  /** Exit codes that count as success (default [0]); migrate diff --exit-code uses 2 for "differs". */
  okExitCodes?: readonly number[];
  /** Kill the CLI after this long (default 5 minutes). */
  timeoutMs?: number;
}

export interface PrismaCliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class PrismaCliError extends Error {
  override name = 'PrismaCliError';
  constructor(
    message: string,
    readonly result: PrismaCliResult,
  ) {
    super(message);
  }
}

const prismaCliPath = createRequire(import.meta.url).resolve('prisma/build/index.js');
export const prismaConfigPath = path.join(projectRoot, 'prisma.config.ts');

const placeholderUrl: Record<DatabaseProvider, string> = {
  sqlite: `file:${path.join(os.tmpdir(), 'prisma-no-database.db')}`,
  postgres: 'postgresql://no-database@localhost:5432/no-database',
};

/** The environment prisma.config.ts reads to select a schema and a database. */
export function prismaEnv(target: PrismaTarget, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    PRISMA_SERVICE: target.service,
    PRISMA_PROVIDER: target.provider,
    // No update check or telemetry: this machine and CI reach no Prisma host.
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
  // The composed schemas read their datasource url from PRISMA_DATABASE_URL.
  // Commands that open no database (generate) still need it to be set: when
  // Prisma 6.19 cannot resolve the url it falls back to defaults that include
  // downloading the native query engine, which fails offline. The placeholder
  // is never connected to (the driver adapter in prisma.config.ts is).
  env.PRISMA_DATABASE_URL = target.url ?? placeholderUrl[target.provider];
  return env;
}

/**
 * Runs `prisma <args> --config prisma.config.ts` and resolves when it exits.
 * Rejects with a PrismaCliError carrying the CLI's output when the exit code is
 * not an accepted one, or when it times out.
 */
export function runPrisma(
  args: readonly string[],
  target: PrismaTarget,
  options: PrismaCliOptions = {},
): Promise<PrismaCliResult> {
  const okExitCodes = options.okExitCodes ?? [0];
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const label = `prisma ${args.join(' ')} [${target.service}/${target.provider}${
    target.url ? ` ${redactUrl(target.url)}` : ''
  }]`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prismaCliPath, ...args, '--config', prismaConfigPath], {
      cwd: projectRoot,
      env: prismaEnv(target),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (options.echo) process.stderr.write(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new PrismaCliError(`${label}: could not start: ${error.message}`, { exitCode: -1, stdout, stderr }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: PrismaCliResult = { exitCode: code ?? -1, stdout, stderr };
      if (timedOut) {
        reject(new PrismaCliError(`${label}: timed out after ${timeoutMs} ms\n${tail(result)}`, result));
      } else if (code !== null && okExitCodes.includes(code)) {
        resolve(result);
      } else {
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new PrismaCliError(`${label} ${how}\n${tail(result)}`, result));
      }
    });
  });
}

/** The CLI's output for an error message (its errors go to stderr, some to stdout). */
function tail(result: PrismaCliResult): string {
  const text = [result.stderr.trim(), result.stdout.trim()].filter(Boolean).join('\n');
  return text.length > 8000 ? `...${text.slice(-8000)}` : text;
}
