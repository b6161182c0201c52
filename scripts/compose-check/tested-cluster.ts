/**
 * The Temporal cluster the tests ran (`npm run cluster`, tooling/cluster), as docker-compose.yml must mirror it:
 * read from tooling/cluster/settings.ts where it says so, so that moving a setting there moves what compose is
 * checked against.
 */
import path from 'node:path';
import { projectRoot } from '../../src/project-root';
import { serverServices, type ServerService } from '../../tooling/cluster/cluster';
import {
  clusterDatabases,
  clusterNamespace,
  dynamicConfigFile,
  historyShards,
  namespaceRetention,
  pinnedServerVersion,
  pinnedUiVersion,
  schemaSteps,
  sqlPlugin,
  versionedSchema,
} from '../../tooling/cluster/settings';

export type { ServerService };

/** What temporal-sql-tool runs on one database: the subcommand and its arguments, e.g. `setup-schema -v 0.0`. */
export type SchemaStep = string[];

export interface TestedCluster {
  /** go.temporal.io/server's version in deploy/temporal-server/go.mod, e.g. `1.32.2`. */
  serverVersion: string;
  /** github.com/temporalio/ui-server/v2's version in deploy/temporal-ui/go.mod: the Web UI `npm run cluster` runs. */
  uiVersion: string;
  namespace: string;
  /** As settings.ts spells it, e.g. `72h`. */
  retention: string;
  /** The shared dynamic config, relative to the project root (as a compose bind mount names it). */
  dynamicConfigFile: string;
  /** One process each in the tested cluster. */
  serverServices: readonly ServerService[];
  /** The SQL plugin of persistence and visibility. */
  sqlPlugin: string;
  historyShards: number;
  /** Persistence's database and visibility's, with the schema folder each takes (below postgresql/v12). */
  databases: { history: string; visibility: string };
  /** temporal-sql-tool's steps for a database whose versioned schema is in `schemaDir`. */
  schemaSteps(schemaDir: string): SchemaStep[];
  /** Where a schema kind's versioned files are, relative to the folder of the server's schemas. */
  versionedSchema: { history: string; visibility: string };
}

/** The cluster the tests ran, as compose must deploy it. */
export function testedCluster(): TestedCluster {
  return {
    serverVersion: pinnedServerVersion(),
    uiVersion: pinnedUiVersion(),
    namespace: clusterNamespace,
    retention: namespaceRetention,
    dynamicConfigFile: path.relative(projectRoot, dynamicConfigFile).split(path.sep).join('/'),
    // The four processes startCluster launches.
    serverServices,
    sqlPlugin,
    historyShards,
    databases: clusterDatabases(),
    versionedSchema,
    schemaSteps,
  };
}

const durationUnits: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as the temporal CLI and Go take it (`72h`, `3d`, `1h30m`), in milliseconds; undefined if it is not one. */
export function durationMs(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) return undefined;
  return parts.reduce((sum, part) => sum + Number(part[1]) * (durationUnits[part[2] ?? ''] ?? 0), 0);
}
