/**
 * The Temporal Web UI for the cluster: the ui-server binary `npm run setup:temporal` builds (the dev server has the
 * same UI built in). Its config points it at the frontend and at the codec server, so payloads read decrypted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify as stringifyYaml } from 'yaml';
import { isExecutableFile, setupCommand, temporalLayout } from '../temporal/servers';
import { clusterNamespace } from './settings';

export interface WebUiOptions {
  temporalAddress: string;
  port: number;
  /** The codec server the browser calls to decode payloads (the system's, see src/codec-server). */
  codecEndpoint?: string;
  /** Where its config and log go. */
  root?: string;
  log?: (line: string) => void;
}

export interface WebUi {
  url: string;
  stop(): Promise<void>;
}

export async function startWebUi(options: WebUiOptions): Promise<WebUi> {
  if (!isExecutableFile(temporalLayout.uiServer)) {
    throw new Error(`${temporalLayout.uiServer} is missing: run \`${setupCommand}\` first`);
  }
  const root = options.root ?? path.join(temporalLayout.home, 'cluster', 'ui');
  mkdirSync(path.join(root, 'config'), { recursive: true });
  writeFileSync(
    path.join(root, 'config', 'cluster.yaml'),
    stringifyYaml({
      temporalGrpcAddress: options.temporalAddress,
      host: '127.0.0.1',
      port: options.port,
      enableUi: true,
      defaultNamespace: clusterNamespace,
      // A local tool: no news fetch or version check calling out to the internet.
      disableNewsFetch: true,
      notifyOnNewVersion: false,
      cors: { allowOrigins: [`http://localhost:${options.port}`, `http://127.0.0.1:${options.port}`] },
      ...(options.codecEndpoint && { codec: { endpoint: options.codecEndpoint } }),
    }),
  );
  const logFile = openSync(path.join(root, 'ui-server.log'), 'a');
  const child: ChildProcess = spawn(temporalLayout.uiServer, ['--root', root, '--env', 'cluster', 'start'], {
    stdio: ['ignore', logFile, logFile],
  });
  closeSync(logFile);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Web UI exited at start; see ${path.join(root, 'ui-server.log')}`);
    const answered = await fetch(`${url}/api/v1/settings`).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) throw new Error(`the Web UI did not answer at ${url} within 30 s`);
    await sleep(250);
  }
  options.log?.(`Web UI: ${url} (ui-server pid ${child.pid})`);
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
