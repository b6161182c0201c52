/**
 * The Temporal cluster in compose against the one the tests ran (scripts/compose-check/tested-cluster.ts): the same
 * server version, services, persistence, dynamic config, schema steps, namespace and retention.
 */
import type { Json } from '../compose-file';
import type { CheckContext } from '../context';
import { commandText, invocations, optionValue } from '../shell';
import { bindMounts, dependsOnOf, environmentOf, imageOf, services } from '../services';
import { durationMs, testedCluster, type SchemaStep, type ServerService, type TestedCluster } from '../tested-cluster';
import { isPostgresImage, postgresInit } from './database-urls';

/** The version in a `temporalio/<repo>:<tag>` image, or undefined for another image. */
function temporalImageTag(image: string, repo: string): string | undefined {
  return new RegExp(`^(?:docker\\.io/)?temporalio/${repo}:([^@]+)`).exec(image)?.[1];
}

interface ServerContainer {
  name: string;
  service: Json;
  environment: Record<string, string | undefined>;
  /** TEMPORAL_SERVICES, or every service when it is unset (the server's default). */
  runs: string[] | 'all';
}

function serverContainers(context: CheckContext): ServerContainer[] {
  return services(context)
    .filter(([, service]) => temporalImageTag(imageOf(service), 'server') !== undefined)
    .map(([name, service]) => {
      const environment = environmentOf(service);
      const list = environment.TEMPORAL_SERVICES;
      const runs = list === undefined ? ('all' as const) : list.split(',').map((item) => item.trim());
      return { name, service, environment, runs };
    });
}

/** The server's settings every container of one cluster must share (the image's defaults when unset). */
const sharedServerSettings: Record<string, string | undefined> = {
  DB: undefined,
  POSTGRES_SEEDS: undefined,
  DB_PORT: '5432',
  POSTGRES_USER: undefined,
  POSTGRES_PWD: undefined,
  DBNAME: 'temporal',
  VISIBILITY_DBNAME: 'temporal_visibility',
  NUM_HISTORY_SHARDS: '4',
  DYNAMIC_CONFIG_FILE_PATH: undefined,
};

function serverSetting(container: ServerContainer, key: string): string | undefined {
  return container.environment[key] ?? sharedServerSettings[key];
}

/**
 * temporalio/server at the version the tests built and ran, one container per service as the tested cluster runs
 * one process per service, all on the same persistence (the tested plugin and shard count), each with
 * deploy/temporal/dynamicconfig.yaml mounted where DYNAMIC_CONFIG_FILE_PATH points; temporalio/admin-tools at the
 * same version (its temporal-sql-tool and schema files are that release's).
 */
export function checkTemporalServer(context: CheckContext, tested: TestedCluster = testedCluster()): string[] {
  const problems: string[] = [];
  const all = new Map(services(context));
  for (const [name, service] of all) {
    const image = imageOf(service);
    if (temporalImageTag(image, 'auto-setup') !== undefined) {
      problems.push(
        `${name}: ${image} is deprecated (not built for new releases); run temporalio/server:${tested.serverVersion} ` +
          'with a schema job, as the tested cluster does',
      );
    }
    const uiTag = temporalImageTag(image, 'ui');
    if (uiTag !== undefined && uiTag !== tested.uiVersion) {
      problems.push(
        `${name}: ${image}, but npm run cluster runs the Web UI ${tested.uiVersion} (deploy/temporal-ui/go.mod)`,
      );
    }
    const toolsTag = temporalImageTag(image, 'admin-tools');
    if (toolsTag !== undefined && toolsTag.split('-')[0] !== tested.serverVersion) {
      problems.push(
        `${name}: ${image} is not the tested server's release ${tested.serverVersion}: ` +
          'its temporal-sql-tool and schema files must match the server',
      );
    }
  }
  const containers = serverContainers(context);
  if (containers.length === 0) {
    return [
      ...problems,
      `no service runs temporalio/server:${tested.serverVersion}, the server the cluster tests built and ran ` +
        '(deploy/temporal-server/go.mod)',
    ];
  }
  const separately = `the tested cluster runs ${tested.serverServices.join(', ')} as separate processes: one container each`;
  const covered = new Set<string>();
  for (const container of containers) {
    const { name, service, runs } = container;
    const tag = temporalImageTag(imageOf(service), 'server');
    if (tag !== tested.serverVersion) {
      problems.push(
        `${name}: temporalio/server:${tag}, but the cluster tests ran ${tested.serverVersion} (deploy/temporal-server/go.mod)`,
      );
    }
    if (runs === 'all') {
      problems.push(
        `${name}: TEMPORAL_SERVICES is unset, so it runs every Temporal service in one container; ${separately}`,
      );
      tested.serverServices.forEach((item) => covered.add(item));
    } else {
      for (const item of runs) {
        if (!tested.serverServices.includes(item as ServerService)) {
          problems.push(`${name}: TEMPORAL_SERVICES names ${item}, not one of ${tested.serverServices.join(', ')}`);
        }
        covered.add(item);
      }
      if (runs.length > 1) problems.push(`${name}: runs ${runs.join(', ')} in one container; ${separately}`);
    }
    const plugin = serverSetting(container, 'DB');
    if (plugin !== tested.sqlPlugin) {
      problems.push(`${name}: DB is ${plugin ?? 'unset'}, but the tested cluster runs on ${tested.sqlPlugin}`);
    }
    const shards = serverSetting(container, 'NUM_HISTORY_SHARDS');
    if (Number(shards) !== tested.historyShards) {
      problems.push(`${name}: NUM_HISTORY_SHARDS is ${shards}, but the tested cluster has ${tested.historyShards}`);
    }
    problems.push(...checkServerDatabase(context, all, container));
    problems.push(...checkDynamicConfig(container, tested));
  }
  for (const item of tested.serverServices) {
    if (!covered.has(item))
      problems.push(`no container runs the Temporal ${item} service (TEMPORAL_SERVICES: ${item})`);
  }
  for (const key of Object.keys(sharedServerSettings)) {
    const values = new Map<string, string[]>();
    for (const container of containers) {
      const value = serverSetting(container, key) ?? '(unset)';
      values.set(value, [...(values.get(value) ?? []), container.name]);
    }
    if (values.size > 1) {
      const list = [...values].map(([value, names]) => `${names.join(', ')}: ${value}`).join('; ');
      problems.push(
        `${key} differs between the Temporal server containers (${list}): they must share one cluster's settings`,
      );
    }
  }
  return problems;
}

function checkServerDatabase(context: CheckContext, all: Map<string, Json>, container: ServerContainer): string[] {
  const { name } = container;
  const seeds = serverSetting(container, 'POSTGRES_SEEDS');
  const target = seeds === undefined ? undefined : all.get(seeds);
  if (!seeds || !target)
    return [`${name}: POSTGRES_SEEDS ${seeds ?? 'is unset'}${seeds ? ' is not a service here' : ''}`];
  if (!isPostgresImage(target)) return [`${name}: POSTGRES_SEEDS ${seeds} is not a postgres image`];
  const user = serverSetting(container, 'POSTGRES_USER') ?? '';
  const roles = postgresInit(context, target).roles;
  if (!roles.has(user)) return [`${name}: POSTGRES_USER ${user || '(unset)'} is not a login role of ${seeds}`];
  const password = roles.get(user);
  if (password !== undefined && password !== serverSetting(container, 'POSTGRES_PWD')) {
    return [`${name}: POSTGRES_PWD differs from the password ${seeds} gives ${user}`];
  }
  return [];
}

function checkDynamicConfig(container: ServerContainer, tested: TestedCluster): string[] {
  const { name, service } = container;
  const file = serverSetting(container, 'DYNAMIC_CONFIG_FILE_PATH');
  if (file === undefined) {
    return [
      `${name}: DYNAMIC_CONFIG_FILE_PATH is unset: the server would not read ${tested.dynamicConfigFile}, ` +
        'the dynamic config the cluster tests ran with (mount it and point the variable at it)',
    ];
  }
  const mount = bindMounts(service).find((candidate) => candidate.target === file);
  if (!mount)
    return [`${name}: nothing is mounted at DYNAMIC_CONFIG_FILE_PATH ${file}; mount ${tested.dynamicConfigFile} there`];
  if (mount.source !== tested.dynamicConfigFile) {
    return [
      `${name}: its dynamic config is ${mount.source}, but the cluster tests ran with ${tested.dynamicConfigFile}`,
    ];
  }
  return [];
}

/** temporal-sql-tool's global options that take a value (urfave/cli v1: `--db x` or `--db=x`). */
const sqlToolValueOptions = new Set([
  '--endpoint',
  '--ep',
  '--port',
  '-p',
  '--user',
  '-u',
  '--password',
  '--pw',
  '--db',
  '--database',
  '--plugin',
  '--pl',
  '--connect-attributes',
  '--ca',
  '--tls-cert-file',
  '--tls-key-file',
  '--tls-ca-file',
  '--tls-server-name',
]);
const sqlToolCommandAliases: Record<string, string> = {
  create: 'create-database',
  setup: 'setup-schema',
  update: 'update-schema',
};
const sqlToolArgumentAliases: Record<string, string> = { '--version': '-v', '--schema-dir': '-d' };

interface SqlToolRun {
  database: string;
  plugin: string;
  host: string | undefined;
  user: string | undefined;
  step: SchemaStep;
}

function sqlToolRuns(service: Json): SqlToolRun[] {
  const environment = environmentOf(service);
  return invocations(commandText(service), ['temporal-sql-tool']).map((words) => {
    let index = 0;
    while (index < words.length && (words[index] ?? '').startsWith('-')) {
      index += sqlToolValueOptions.has(words[index] ?? '') ? 2 : 1;
    }
    const [command = '', ...args] = words.slice(index);
    return {
      database: optionValue(words.slice(0, index), ['--db', '--database']) ?? environment.SQL_DATABASE ?? 'temporal',
      plugin: optionValue(words.slice(0, index), ['--plugin', '--pl']) ?? environment.SQL_PLUGIN ?? 'mysql8',
      host: optionValue(words.slice(0, index), ['--endpoint', '--ep']) ?? environment.SQL_HOST,
      user: optionValue(words.slice(0, index), ['--user', '-u']) ?? environment.SQL_USER,
      step: [sqlToolCommandAliases[command] ?? command, ...args.map((arg) => sqlToolArgumentAliases[arg] ?? arg)],
    };
  });
}

/** Where temporalio/admin-tools keeps the schema files of its release. */
const adminToolsSchemaRoot = '/etc/temporal/schema';

/**
 * A one-shot runs temporal-sql-tool with the tested cluster's steps (create-database, setup-schema -v 0.0,
 * update-schema -d .../versioned) on persistence's and visibility's databases, as the servers name them, on their
 * PostgreSQL with the tested plugin; it waits for that PostgreSQL, and every server container waits for it.
 */
export function checkTemporalSchema(context: CheckContext, tested: TestedCluster = testedCluster()): string[] {
  const problems: string[] = [];
  const jobs = services(context)
    .map(([name, service]) => ({ name, service, runs: sqlToolRuns(service) }))
    .filter(({ runs }) => runs.length > 0);
  const containers = serverContainers(context);
  const reference = containers[0];
  const databases = {
    history: reference ? (serverSetting(reference, 'DBNAME') ?? '') : tested.databases.history,
    visibility: reference ? (serverSetting(reference, 'VISIBILITY_DBNAME') ?? '') : tested.databases.visibility,
  };
  const steps = (kind: 'history' | 'visibility') =>
    tested.schemaSteps(`${adminToolsSchemaRoot}/${tested.versionedSchema[kind]}`);
  const shown = (list: SchemaStep[]) => list.map((step) => step.join(' ')).join('; ');
  if (jobs.length === 0) {
    return [
      `no service runs temporal-sql-tool: nothing sets up the schema the servers need ` +
        `(the tested cluster runs ${shown(steps('history'))} on each database)`,
    ];
  }
  for (const { name, service, runs } of jobs) {
    const onImage = temporalImageTag(imageOf(service), 'admin-tools') !== undefined;
    for (const run of runs) {
      if (run.plugin !== tested.sqlPlugin) {
        problems.push(
          `${name}: temporal-sql-tool --db ${run.database} uses plugin ${run.plugin}; the tested cluster uses ${tested.sqlPlugin}`,
        );
      }
      if (reference && run.host !== serverSetting(reference, 'POSTGRES_SEEDS')) {
        problems.push(
          `${name}: sets up ${run.database} on ${run.host ?? '(no SQL_HOST)'}, but the servers use ${serverSetting(reference, 'POSTGRES_SEEDS')}`,
        );
      }
      if (reference && run.user !== serverSetting(reference, 'POSTGRES_USER')) {
        problems.push(
          `${name}: sets up ${run.database} as ${run.user ?? '(no SQL_USER)'}, but the servers connect as ${serverSetting(reference, 'POSTGRES_USER')}`,
        );
      }
    }
    for (const kind of ['history', 'visibility'] as const) {
      const database = databases[kind];
      const versioned = tested.versionedSchema[kind];
      const actual = runs
        .filter((run) => run.database === database)
        .map(({ step }) =>
          // Another image keeps the schema files elsewhere: only the part the tested cluster names must match.
          !onImage && step[0] === 'update-schema'
            ? step.map((arg) => (arg.endsWith(`/${versioned}`) ? `${adminToolsSchemaRoot}/${versioned}` : arg))
            : step,
        );
      const expected = steps(kind);
      if (actual.length === 0) {
        problems.push(`${name}: does not set up ${database} (the tested cluster runs ${shown(expected)} on it)`);
      } else if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        problems.push(
          `${name}: runs ${shown(actual)} on ${database}, but the tested cluster runs ${shown(expected)} ` +
            '(tooling/cluster/cluster.ts, setUpSchema)',
        );
      }
    }
    for (const database of new Set(runs.map((run) => run.database))) {
      if (database !== databases.history && database !== databases.visibility) {
        problems.push(
          `${name}: sets up ${database}, which the servers do not use (DBNAME ${databases.history}, ` +
            `VISIBILITY_DBNAME ${databases.visibility})`,
        );
      }
    }
    const host = runs[0]?.host;
    if (host && dependsOnOf(service)[host] !== 'service_healthy') {
      problems.push(`${name}: does not wait for ${host} to be healthy (depends_on, service_healthy)`);
    }
  }
  const jobNames = jobs.map(({ name }) => name);
  for (const { name, service } of containers) {
    const dependsOn = dependsOnOf(service);
    if (!jobNames.some((job) => dependsOn[job] === 'service_completed_successfully')) {
      problems.push(
        `${name}: does not wait for ${jobNames.join(' or ')} (service_completed_successfully): ` +
          'the server would start on a missing or older schema',
      );
    }
  }
  return problems;
}

/**
 * A one-shot registers the tested namespace with the tested retention, after the frontend is healthy; whatever
 * registers search attributes is that job or waits for it; the Web UI opens on that namespace.
 */
export function checkTemporalNamespace(context: CheckContext, tested: TestedCluster = testedCluster()): string[] {
  const problems: string[] = [];
  const all = services(context);
  const creators = all
    .map(([name, service]) => ({
      name,
      service,
      calls: invocations(commandText(service), ['temporal', 'operator', 'namespace', 'create']),
    }))
    .filter(({ calls }) => calls.length > 0);
  if (creators.length === 0) {
    return [
      `no service runs \`temporal operator namespace create\`: the tested cluster registers ${tested.namespace} ` +
        `with retention ${tested.retention}`,
    ];
  }
  const frontends = serverContainers(context)
    .filter(({ runs }) => runs === 'all' || runs.includes('frontend'))
    .map(({ name }) => name);
  for (const { name, service, calls } of creators) {
    for (const words of calls) {
      const namespace = optionValue(words, ['--namespace', '-n']) ?? 'default';
      if (namespace !== tested.namespace) {
        problems.push(`${name}: creates namespace ${namespace}, but the tested cluster's is ${tested.namespace}`);
      }
      const retention = optionValue(words, ['--retention']);
      if (retention === undefined) {
        problems.push(
          `${name}: creates ${namespace} without --retention (the CLI's default applies); the tested cluster keeps ` +
            `${tested.retention} (tooling/cluster/settings.ts)`,
        );
      } else if (durationMs(retention) === undefined || durationMs(retention) !== durationMs(tested.retention)) {
        problems.push(
          `${name}: creates ${namespace} with retention ${retention}, but the tested cluster keeps ${tested.retention} ` +
            '(tooling/cluster/settings.ts)',
        );
      }
    }
    const dependsOn = dependsOnOf(service);
    if (!frontends.some((frontend) => dependsOn[frontend] === 'service_healthy')) {
      problems.push(
        `${name}: does not wait for the Temporal frontend (${frontends.join(' or ') || 'none here'}) to be healthy`,
      );
    }
  }
  const creatorNames = creators.map(({ name }) => name);
  for (const [name, service] of all) {
    if (creatorNames.includes(name)) continue;
    if (invocations(commandText(service), ['temporal', 'operator', 'search-attribute', 'create']).length === 0)
      continue;
    const dependsOn = dependsOnOf(service);
    if (!creatorNames.some((creator) => dependsOn[creator] === 'service_completed_successfully')) {
      problems.push(
        `${name}: registers search attributes without waiting for ${creatorNames.join(' or ')}, which creates the namespace`,
      );
    }
  }
  for (const [name, service] of all) {
    if (temporalImageTag(imageOf(service), 'ui') === undefined) continue;
    const opens = environmentOf(service).TEMPORAL_DEFAULT_NAMESPACE ?? 'default';
    if (opens !== tested.namespace) {
      problems.push(`${name}: TEMPORAL_DEFAULT_NAMESPACE is ${opens}, but the namespace is ${tested.namespace}`);
    }
  }
  return problems;
}
