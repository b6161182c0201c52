import { composeFileName } from './compose-file';
import { loadContext, type CheckContext } from './context';
import type { ExternalCheck } from './docker-compose-config';
import { diskFiles, type ProjectFiles } from './files';
import { checkCommands } from './rules/commands';
import { checkDatabaseUrls } from './rules/database-urls';
import { checkDependsOn } from './rules/depends-on';
import { checkDockerfile } from './rules/dockerfile';
import { checkMigrations } from './rules/migrations';
import { checkPayloadEncryption } from './rules/payload-encryption';
import { checkProcessNeeds, checkProjectEnvironment } from './rules/environment';
import { checkBindMounts, checkPorts } from './rules/ports-and-mounts';
import { checkSearchAttributes } from './rules/search-attributes';
import { checkImagesAndBuilds, checkStructure } from './rules/structure';
import { checkTemporalNamespace, checkTemporalSchema, checkTemporalServer } from './rules/temporal-cluster';
import { checkWorkerHealth } from './rules/worker-health';

export interface Rule {
  name: string;
  description: string;
  check: (context: CheckContext) => string[];
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
    name: 'worker-health',
    description: "every worker's healthcheck calls its own GET /health",
    check: checkWorkerHealth,
  },
  {
    name: 'migrations',
    description: 'no process uses a database before its migrations are applied',
    check: checkMigrations,
  },
  {
    name: 'payload-encryption',
    description: 'the same payload keys everywhere; the Web UI reaches the codec server',
    check: checkPayloadEncryption,
  },
  {
    name: 'search-attributes',
    description: 'registered search attributes equal src/temporal/search-attributes.ts',
    check: checkSearchAttributes,
  },
  {
    name: 'temporal-server',
    description: 'the Temporal server as the cluster tests ran it: version, one container per service, dynamic config',
    check: (context) => checkTemporalServer(context),
  },
  {
    name: 'temporal-schema',
    description: 'the schema job runs the tested temporal-sql-tool steps before any server starts',
    check: (context) => checkTemporalSchema(context),
  },
  {
    name: 'temporal-namespace',
    description: 'the namespace job registers the tested namespace and retention once the frontend is up',
    check: (context) => checkTemporalNamespace(context),
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
