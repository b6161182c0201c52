import { spawnSync } from 'node:child_process';
import { projectRoot } from '../../src/config';
import { composeFileName } from './compose-file';

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
    const client = [program, ...prefix].join(' ');
    const version = spawnSync(program, [...prefix, 'version'], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    if (version.error || version.status !== 0) {
      const why = version.error
        ? ((version.error as NodeJS.ErrnoException).code ?? version.error.message)
        : firstLine(version.stderr);
      unavailable.push(`${client}: ${why}`);
      continue;
    }
    const run = spawnSync(program, [...prefix, '-f', composeFileName, 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const command = `${client} -f ${composeFileName} config -q`;
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
