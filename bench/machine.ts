import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../src/project-root';
import type { MachineInfo } from './results';
import { temporalCliVersion } from './system';

function packageVersion(name: string): string {
  try {
    const file = path.join(projectRoot, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function postgresVersion(adminUrl: string | undefined): Promise<string | null> {
  if (!adminUrl) return null;
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const loadAverage = () => os.loadavg().map((value) => Number(value.toFixed(2))) as [number, number, number];

export async function describeMachine(postgresAdminUrl: string | undefined): Promise<MachineInfo> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryBytes: os.totalmem(),
    loadAverageAtStart: loadAverage(),
    loadAverageAtEnd: loadAverage(),
    versions: {
      node: process.version,
      temporalSdk: packageVersion('@temporalio/worker'),
      temporalCli: temporalCliVersion(),
      prisma: packageVersion('prisma'),
      postgres: await postgresVersion(postgresAdminUrl),
    },
  };
}

export { loadAverage };
