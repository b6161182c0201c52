/**
 * The Temporal cluster's settings that the cluster launcher (`npm run cluster`), its tests and docker-compose.yml
 * share: one home, so the static compose check can compare what compose deploys with what the tests ran.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/project-root';

/** The Go wrapper module that pins the server; its go.mod names the server version the compose image must match. */
export const serverModuleDir = path.join(projectRoot, 'deploy', 'temporal-server');
/** The Go wrapper module that pins the Web UI server; its version is the compose UI image's. */
export const uiModuleDir = path.join(projectRoot, 'deploy', 'temporal-ui');
/** Dynamic config mounted by compose and passed to every server process by the launcher. */
export const dynamicConfigFile = path.join(projectRoot, 'deploy', 'temporal', 'dynamicconfig.yaml');

/** The namespace the system runs in, on the cluster as on the dev server. */
export const clusterNamespace = 'default';
/**
 * How long a closed order's history is kept. Three days: long enough to read a failed order's history after a
 * weekend, short enough that PostgreSQL does not keep every order forever (the read model keeps the summary).
 */
export const namespaceRetention = '72h';

/** Persistence and visibility run on PostgreSQL through this SQL plugin (the server's config and temporal-sql-tool). */
export const sqlPlugin = 'postgres12';
/**
 * History shards, fixed for a cluster's life (changing it means a new cluster). 4 suits one machine and the tests;
 * docs/DEPLOYMENT.md says how to size it for production.
 */
export const historyShards = 4;
/** The databases of a cluster named `name`: persistence's and visibility's. */
export function clusterDatabases(name = 'temporal'): { history: string; visibility: string } {
  return { history: name, visibility: `${name}_visibility` };
}
/** Where each database's versioned schema is, below the folder of the server's schemas (the module's `schema/`). */
export const versionedSchema = {
  history: 'postgresql/v12/temporal/versioned',
  visibility: 'postgresql/v12/visibility/versioned',
} as const;
/**
 * temporal-sql-tool's steps for a new database; update-schema alone on one that has a schema (a no-op when current,
 * the upgrade after a server version bump).
 */
export function schemaSteps(versionedDir: string): string[][] {
  return [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', versionedDir]];
}

/** The server version pinned in deploy/temporal-server/go.mod, e.g. `1.32.2`. */
export function pinnedServerVersion(): string {
  return pinnedVersion(serverModuleDir, 'go.temporal.io/server');
}

/** The Web UI version pinned in deploy/temporal-ui/go.mod, e.g. `2.56.4`. */
export function pinnedUiVersion(): string {
  return pinnedVersion(uiModuleDir, 'github.com/temporalio/ui-server/v2');
}

function pinnedVersion(moduleDir: string, module: string): string {
  const goMod = readFileSync(path.join(moduleDir, 'go.mod'), 'utf8');
  const escaped = module.replace(/[./]/g, (c) => `\\${c}`);
  const found = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+v(\\S+)`, 'm').exec(goMod);
  if (!found?.[1]) throw new Error(`${moduleDir}/go.mod does not require ${module}`);
  return found[1];
}
