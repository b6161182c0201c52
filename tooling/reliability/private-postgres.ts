import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A PostgreSQL server of the chaos run's own: a fresh cluster in a temporary
 * directory, listening on loopback only, that the run may stop and start at
 * will without touching any server the machine already has. Stopping it is a
 * crash (`pg_ctl stop -m immediate`: no checkpoint, recovery on the next
 * start), which is the outage a service database really has.
 */
export interface PrivatePostgres {
  /** A superuser URL (trust authentication, loopback only). */
  readonly adminUrl: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server if it runs and deletes its files. */
  destroy(): Promise<void>;
}

/**
 * The directory of initdb and pg_ctl: POSTGRES_BIN_DIR, else the newest
 * Debian install, else `pg_config --bindir`; undefined if none is found.
 */
export async function findPostgresServerPrograms(): Promise<string | undefined> {
  const fromEnv = process.env.POSTGRES_BIN_DIR?.trim();
  if (fromEnv) return fromEnv;
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((version) => existsSync(path.join(debianRoot, version, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debianRoot, versions[0], 'bin');
  }
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    const dir = stdout.trim();
    if (existsSync(path.join(dir, 'pg_ctl'))) return dir;
  } catch {
    // No pg_config on PATH.
  }
  return undefined;
}

/**
 * PostgreSQL refuses to run as root. As root, the cluster belongs to the
 * `postgres` user (created by the Debian package) and its programs run as
 * that user through runuser.
 */
async function asServerUser(): Promise<{
  wrap: (command: string, args: string[]) => [string, string[]];
  uid?: number;
  gid?: number;
}> {
  if (process.getuid?.() !== 0) return { wrap: (command, args) => [command, args] };
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return {
      wrap: (command, args) => ['runuser', ['-u', 'postgres', '--', command, ...args]],
      uid: Number(uid.trim()),
      gid: Number(gid.trim()),
    };
  } catch {
    throw new Error('Running as root, a PostgreSQL outage needs a `postgres` user to run the server as');
  }
}

export async function startPrivatePostgres(port: number): Promise<PrivatePostgres> {
  const binDir = await findPostgresServerPrograms();
  if (!binDir) {
    throw new Error(
      'A PostgreSQL server of its own needs the PostgreSQL server programs (initdb, pg_ctl): install them ' +
        '(Debian: apt-get install postgresql) or set POSTGRES_BIN_DIR to their directory',
    );
  }
  const user = await asServerUser();
  const root = mkdtempSync(path.join(tmpdir(), 'order-saga-postgres-'));
  const dataDir = path.join(root, 'data');
  const logFile = path.join(root, 'server.log');
  if (user.uid !== undefined && user.gid !== undefined) chownSync(root, user.uid, user.gid);

  const tool = async (name: string, args: string[]) => {
    const [command, commandArgs] = user.wrap(path.join(binDir, name), args);
    try {
      await run(command, commandArgs, { cwd: root });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`${name} ${args.join(' ')} failed:\n${stderr || stdout || String(error)}`);
    }
  };
  let running = false;
  const start = async () => {
    // Sockets in our own directory, TCP on loopback only.
    const serverOptions = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1`;
    await tool('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverOptions, 'start']);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    running = false;
    await tool('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
  };

  try {
    await tool('initdb', ['-D', dataDir, '-U', 'saga', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await start();
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    adminUrl: `postgresql://saga@127.0.0.1:${port}/postgres`,
    stop,
    start,
    destroy: async () => {
      try {
        await stop();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
