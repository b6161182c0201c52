/**
 * scripts/check-compose.ts: passes on the real docker-compose.yml, Dockerfile
 * and init script, and each rule fails on a copy broken in memory.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { databaseNames, readModelDatabase } from '../../src/db/layout';
import { databaseUrlVariable } from '../../src/db/url';
import { interpolate, parseCompose } from '../../scripts/compose-check/compose-file';
import { loadContext, type CheckContext } from '../../scripts/compose-check/context';
import { parseDockerfile } from '../../scripts/compose-check/dockerfile';
import { isDockerignored } from '../../scripts/compose-check/dockerignore';
import { diskFiles, overlayFiles, type ProjectFiles } from '../../scripts/compose-check/files';
import { resolveProcess } from '../../scripts/compose-check/processes';
import { checkCommands } from '../../scripts/compose-check/rules/commands';
import { checkDatabaseUrls } from '../../scripts/compose-check/rules/database-urls';
import { checkDependsOn } from '../../scripts/compose-check/rules/depends-on';
import { checkDockerfile } from '../../scripts/compose-check/rules/dockerfile';
import { checkMigrations } from '../../scripts/compose-check/rules/migrations';
import { checkProcessNeeds, checkProjectEnvironment } from '../../scripts/compose-check/rules/environment';
import { checkBindMounts, checkPorts, parsePorts } from '../../scripts/compose-check/rules/ports-and-mounts';
import { checkSearchAttributes } from '../../scripts/compose-check/rules/search-attributes';
import { checkImagesAndBuilds, checkStructure } from '../../scripts/compose-check/rules/structure';
import {
  checkTemporalNamespace,
  checkTemporalSchema,
  checkTemporalServer,
} from '../../scripts/compose-check/rules/temporal-cluster';
import { checkWorkerHealth } from '../../scripts/compose-check/rules/worker-health';
import { report, rules, runChecks } from '../../scripts/compose-check/runner';
import { invocations } from '../../scripts/compose-check/shell';
import { durationMs, testedCluster } from '../../scripts/compose-check/tested-cluster';
import { pinnedServerVersion } from '../../tooling/cluster/settings';

type Json = Record<string, unknown>;

/** The read model's URL variable, as src/config.ts names it. */
const viewsVariable = databaseUrlVariable(readModelDatabase);
const workerServices = ['worker-orders', 'worker-inventory', 'worker-payments', 'worker-shipping'];
const serverContainers = ['temporal-history', 'temporal-matching', 'temporal-frontend', 'temporal-internal-worker'];

function realContext(files: ProjectFiles = diskFiles()): CheckContext {
  const { context, problems } = loadContext(files);
  assert.ok(context, `docker-compose.yml did not load: ${problems.join('; ')}`);
  return context;
}

/** The real context with a deep copy of the compose file, edited by `edit`. */
function brokenCompose(edit: (services: Record<string, Json>, compose: Json) => void): CheckContext {
  const context = realContext();
  const compose = structuredClone(context.compose);
  edit(compose.services as Record<string, Json>, compose);
  return { ...context, compose };
}

function environment(service: Json | undefined): Record<string, unknown> {
  assert.ok(service, 'no such service');
  return service.environment as Record<string, unknown>;
}

/** A one-shot's shell script (its command's single entry), edited by `edit`. */
function editScript(service: Json | undefined, edit: (script: string) => string): void {
  assert.ok(service, 'no such service');
  service.command = (service.command as string[]).map(edit);
}

/** Asserts that some problem matches `pattern`, showing them all if none does. */
function assertProblem(problems: string[], pattern: RegExp): void {
  assert.ok(
    problems.some((problem) => pattern.test(problem)),
    `expected a problem matching ${pattern}, got:\n  ${problems.join('\n  ') || '(none)'}`,
  );
}

describe('check:compose on the real files', () => {
  test('every rule passes', () => {
    const results = runChecks();
    const failures = results.flatMap(({ rule, problems }) => problems.map((problem) => `${rule}: ${problem}`));
    assert.deepEqual(failures, []);
    assert.deepEqual(
      results.map(({ rule }) => rule),
      ['yaml', ...rules.map(({ name }) => name)],
    );
  });
});

describe('check:compose report', () => {
  test('lists every problem and exits 1', () => {
    const compose = diskFiles().read('docker-compose.yml') ?? '';
    const broken = overlayFiles(diskFiles(), {
      'docker-compose.yml': compose.replace('LOG_LEVEL: info', 'LOG_LEVL: info'),
    });
    const { exitCode, lines } = report(runChecks(broken), { status: 'skipped', detail: 'no Compose client' });
    assert.equal(exitCode, 1);
    // The shared environment block reaches the API, the four workers and the orders build's one-shot.
    const typos = lines.filter((line) =>
      /^FAIL {2}environment: .*LOG_LEVL is not a variable .*did you mean LOG_LEVEL/.test(line),
    );
    assert.equal(typos.length, 6, lines.join('\n'));
    assert.ok(lines.includes('SKIP  docker compose config: no Compose client'));
    assert.equal(lines.at(-1), 'check:compose failed: 6 problem(s); docker compose config skipped');
  });

  test('a failing docker compose config fails the check', () => {
    const { exitCode, lines } = report([], { status: 'failed', detail: 'services.api.depends_on: invalid' });
    assert.equal(exitCode, 1);
    assert.deepEqual(lines, [
      'FAIL  docker compose config: services.api.depends_on: invalid',
      'check:compose failed: 1 problem(s)',
    ]);
  });
});

describe('check:compose rules fail on broken copies', () => {
  test('a misspelled environment variable', () => {
    const context = brokenCompose((services) => {
      const env = environment(services.api);
      env.ORDERS_DATABSE_URL = env.ORDERS_DATABASE_URL;
      delete env.ORDERS_DATABASE_URL;
    });
    assertProblem(
      checkProjectEnvironment(context),
      /^api: ORDERS_DATABSE_URL is not a variable src\/config\.ts reads \(did you mean ORDERS_DATABASE_URL\?\)$/,
    );
    // ... and so the API would ping a SQLite default instead of the orders database.
    assertProblem(checkProcessNeeds(context), /^api: ORDERS_DATABASE_URL is not set/);
  });

  test('a value the app rejects', () => {
    const context = brokenCompose((services) => {
      environment(services.api).API_PORT = 'http';
      environment(services.carrier).CARRIER_LATENCY_MS = 'slow';
      environment(services.carrier).FLAT_SHIPPING_RATE_CENTS = '999';
    });
    const problems = checkProjectEnvironment(context);
    assertProblem(problems, /^api: Invalid configuration: API_PORT/);
    // The carrier is checked against its own variables, not the services'.
    assertProblem(problems, /^carrier: .*CARRIER_LATENCY_MS/);
    assertProblem(problems, /^carrier: FLAT_SHIPPING_RATE_CENTS is not a variable simulators\/config\.ts reads/);
  });

  test('a missing depends_on target', () => {
    const context = brokenCompose((services) => {
      const worker = services['worker-orders'];
      assert.ok(worker);
      worker.depends_on = { 'temporal-namespac': { condition: 'service_completed_successfully' } };
    });
    assertProblem(
      checkDependsOn(context),
      /^worker-orders: depends_on temporal-namespac, which is not a service \(did you mean temporal-namespace\?\)$/,
    );
    assertProblem(checkSearchAttributes(context), /^worker-orders: does not wait for temporal-namespace/);
  });

  test('depends_on conditions that cannot hold, and a cycle', () => {
    const context = brokenCompose((services) => {
      const frontend = services['temporal-frontend'];
      const registrar = services['temporal-namespace'];
      assert.ok(frontend && registrar);
      delete frontend.healthcheck;
      registrar.restart = 'unless-stopped';
      services['temporal-postgresql'] = { ...services['temporal-postgresql'], depends_on: ['temporal-schema'] };
    });
    const problems = checkDependsOn(context);
    assertProblem(
      problems,
      /^temporal-namespace: waits for temporal-frontend to be healthy, but temporal-frontend has no healthcheck$/,
    );
    assertProblem(problems, /^worker-orders: waits for temporal-namespace to complete, but .* restarts/);
    assertProblem(problems, /^depends_on cycle: /);
  });

  test('a wrong search attribute type', () => {
    const context = brokenCompose((services) => {
      const registrar = services['temporal-namespace'];
      assert.ok(registrar);
      registrar.command = (registrar.command as string[]).map((script) =>
        script.replace('--name NeedsAttention --type Bool', '--name NeedsAttention --type Keyword'),
      );
    });
    assert.deepEqual(checkSearchAttributes(context), [
      'temporal-namespace: registers NeedsAttention as Keyword, but src/temporal/search-attributes.ts defines it as Bool',
    ]);
  });

  test('a missing, an extra and an unregistered search attribute, and another namespace', () => {
    const context = brokenCompose((services) => {
      const registrar = services['temporal-namespace'];
      assert.ok(registrar);
      registrar.command = (registrar.command as string[]).map((script) =>
        script
          .replace('--name CustomerId --type Keyword', '--name Customer --type Keyword')
          .replace('search-attribute create --namespace default', 'search-attribute create --namespace orders'),
      );
    });
    const problems = checkSearchAttributes(context);
    assertProblem(problems, /does not register CustomerId \(Keyword\)/);
    assertProblem(
      problems,
      /registers Customer \(Keyword\), which src\/temporal\/search-attributes\.ts does not define/,
    );
    assertProblem(problems, /registers in namespace orders, but api uses default/);
    assertProblem(problems, /registers in namespace orders, but the tested cluster's is default/);

    const none = brokenCompose((services) => {
      delete services['temporal-namespace'];
    });
    assertProblem(checkSearchAttributes(none), /no service runs `temporal operator search-attribute create`/);
  });

  test('database URLs the app or the init script would reject', () => {
    const context = brokenCompose((services) => {
      environment(services['worker-orders']).ORDERS_DATABASE_URL =
        'postgresql://orders:orders@services-postgresql:5432/order';
      environment(services['worker-payments']).PAYMENTS_DATABASE_URL =
        'postgresql://payments:payments@services-postgresql:5432/payments?schema=payments';
      environment(services['worker-shipping']).SHIPPING_DATABASE_URL = 'file:./data/shipping.db';
      const api = environment(services.api);
      api.INVENTORY_DATABASE_URL = 'postgresql://inventory:wrong@services-postgresql:5432/inventory';
      api.SHIPPING_DATABASE_URL = 'postgresql://shipping:shipping@postgres:5432/shipping';
    });
    const problems = checkDatabaseUrls(context);
    assertProblem(problems, /^worker-orders: ORDERS_DATABASE_URL: database "order" is not created by docker\/postgres/);
    assertProblem(problems, /^worker-payments: PAYMENTS_DATABASE_URL: \?schema= is not supported/);
    assertProblem(problems, /^worker-shipping: SHIPPING_DATABASE_URL: a file: \(SQLite\) database would be lost/);
    assertProblem(problems, /^api: INVENTORY_DATABASE_URL: the password of "inventory" differs/);
    assertProblem(problems, /^api: SHIPPING_DATABASE_URL: host "postgres" is not a service/);
    assertProblem(problems, /^ORDERS_DATABASE_URL differs between services \(migrate, api vs worker-orders\)/);
  });

  test('two services on one database', () => {
    const context = brokenCompose((services) => {
      const api = environment(services.api);
      api.PAYMENTS_DATABASE_URL = api.ORDERS_DATABASE_URL;
    });
    assertProblem(checkDatabaseUrls(context), /^api: PAYMENTS_DATABASE_URL: the same database as ORDERS_DATABASE_URL/);
  });

  test("the read model's URL missing on the workers and the API, and on the migration job", () => {
    const context = brokenCompose((services) => {
      for (const name of [...workerServices, 'api', 'migrate']) delete environment(services[name])[viewsVariable];
    });
    const problems = checkProcessNeeds(context);
    for (const worker of workerServices) {
      assertProblem(problems, new RegExp(`^${worker}: ${viewsVariable} is not set; the worker's outbox relay writes`));
    }
    assertProblem(problems, new RegExp(`^api: ${viewsVariable} is not set; the API reads the order list`));
    assertProblem(
      problems,
      new RegExp(`^migrate: ${viewsVariable} is not set; the migration would go to a SQLite file`),
    );
    assert.equal(problems.length, workerServices.length + 2, problems.join('\n'));
  });

  test("the read model's URL pointing at the wrong database", () => {
    const context = brokenCompose((services) => {
      // Another service's database, under the read model's role: no clash inside worker-inventory itself.
      environment(services['worker-inventory'])[viewsVariable] =
        'postgresql://views:views@services-postgresql:5432/orders';
      // A database the init script does not create.
      environment(services['worker-payments'])[viewsVariable] =
        'postgresql://views:views@services-postgresql:5432/view';
      // The right database under another service's role.
      environment(services.api)[viewsVariable] = 'postgresql://orders:orders@services-postgresql:5432/views';
    });
    const problems = checkDatabaseUrls(context);
    assertProblem(
      problems,
      new RegExp(`^worker-inventory: ${viewsVariable}: role "views" does not own database "orders" \\(orders does\\)`),
    );
    assertProblem(
      problems,
      new RegExp(`^worker-inventory: ${viewsVariable}: the database another service here uses as ORDERS_DATABASE_URL`),
    );
    assertProblem(
      problems,
      new RegExp(`^worker-payments: ${viewsVariable}: database "view" is not created by docker/postgres`),
    );
    assertProblem(problems, new RegExp(`^api: ${viewsVariable}: role "orders" does not own database "views"`));
    assertProblem(problems, new RegExp(`^${viewsVariable} differs between services`));
  });

  test('a process using the read model before its migrations', () => {
    const context = brokenCompose((services) => {
      const api = services.api;
      const worker = services['worker-payments'];
      assert.ok(api && worker);
      delete (api.depends_on as Json).migrate;
      (worker.depends_on as Json).migrate = { condition: 'service_started' };
    });
    const problems = checkMigrations(context);
    assert.deepEqual(problems, [
      `api: uses the ${readModelDatabase} database, which no worker migrates at start, without waiting for migrate (depends_on with condition service_completed_successfully)`,
      `worker-payments: uses the ${readModelDatabase} database, which no worker migrates at start, without waiting for migrate (depends_on with condition service_completed_successfully)`,
    ]);

    // A job that migrates only the services' databases does not count, nor does no job at all.
    const servicesOnly = brokenCompose((services) => {
      const job = services.migrate;
      assert.ok(job);
      job.command = ['npm', 'run', 'db:migrate', '--', 'orders', 'inventory', 'payments', 'shipping'];
    });
    const notMigrated = checkMigrations(servicesOnly);
    assert.equal(notMigrated.length, workerServices.length + 1, notMigrated.join('\n'));
    assertProblem(
      notMigrated,
      /^worker-orders: uses the .* database, which no worker migrates at start, and no one-shot/,
    );
    const noJob = brokenCompose((services) => {
      delete services.migrate;
    });
    assert.equal(checkMigrations(noJob).length, workerServices.length + 1);
  });

  test('a worker missing, a worker twice, an unknown service and a missing file', () => {
    const context = brokenCompose((services) => {
      const shipping = services['worker-shipping'];
      const payments = services['worker-payments'];
      const inventory = services['worker-inventory'];
      assert.ok(shipping && payments && inventory);
      shipping.command = ['npm', 'run', 'worker:orders'];
      payments.command = ['node', '--import', 'tsx', 'src/workers/main.ts', 'billing'];
      inventory.command = ['node', '--import', 'tsx', 'src/workers/inventory.ts'];
    });
    const problems = checkCommands(context);
    assertProblem(problems, /^no worker for the shipping service/);
    assertProblem(problems, /^2 workers for the orders service \(worker-orders, worker-shipping\)/);
    assertProblem(problems, /^worker-payments: .*needs one of orders, inventory, payments, shipping .*\(got billing\)/);
    assertProblem(problems, /^worker-inventory: .*src\/workers\/inventory\.ts does not exist/);
  });

  test('what each process needs', () => {
    const context = brokenCompose((services) => {
      const worker = services['worker-orders'];
      assert.ok(worker);
      environment(worker).PAYMENTS_DATABASE_URL = 'postgresql://payments:payments@services-postgresql:5432/payments';
      delete environment(worker).TEMPORAL_ADDRESS;
      delete worker.healthcheck;
      environment(services.api).API_HOST = '127.0.0.1';
      environment(services.api).API_PORT = '8080';
      environment(services.carrier).CARRIER_HOST = '127.0.0.1';
      delete environment(services['payment-gateway']).GATEWAY_HOST;
      environment(services['worker-shipping']).CARRIER_URL = 'http://carriers:4020';
      delete environment(services['worker-payments']).PAYMENT_GATEWAY_URL;
    });
    const problems = checkProcessNeeds(context);
    assertProblem(problems, /^carrier: CARRIER_HOST is 127\.0\.0\.1; in a container it must be 0\.0\.0\.0/);
    assertProblem(problems, /^payment-gateway: GATEWAY_HOST is unset/);
    assertProblem(problems, /^worker-shipping: CARRIER_URL http:\/\/carriers:4020: "carriers" is not a service here/);
    assertProblem(problems, /^worker-payments: PAYMENT_GATEWAY_URL is unset/);
    assertProblem(problems, /^worker-orders: the orders worker is given PAYMENTS_DATABASE_URL/);
    assertProblem(problems, /^worker-orders: TEMPORAL_ADDRESS is not set/);
    assertProblem(problems, /^worker-orders: inherits the image's HTTP healthcheck/);
    assertProblem(problems, /^api: API_HOST is 127\.0\.0\.1/);
    assertProblem(problems, /^api: publishes container port\(s\) 3000, but listens on API_PORT 8080/);
  });

  test('colliding published ports', () => {
    const context = brokenCompose((services) => {
      const ui = services['temporal-ui'];
      assert.ok(ui);
      ui.ports = ['3000:8080'];
    });
    assert.deepEqual(checkPorts(context), ['api: host port 3000/tcp is already published by temporal-ui']);
  });

  test('structure, images and bind mounts', () => {
    const context = brokenCompose((services, compose) => {
      compose.version = '3.8';
      compose.extras = {};
      const ui = services['temporal-ui'];
      const db = services['services-postgresql'];
      assert.ok(ui && db);
      ui.image = 'temporalio/ui';
      db.volumes = ['./docker/postgres/missing.sql:/docker-entrypoint-initdb.d/10.sql:ro'];
      services.empty = {};
    });
    assertProblem(checkStructure(context), /`version:` is obsolete/);
    assertProblem(checkStructure(context), /unknown top-level key "extras"/);
    assertProblem(checkImagesAndBuilds(context), /^temporal-ui: image temporalio\/ui has no tag/);
    assertProblem(checkImagesAndBuilds(context), /^empty: neither image nor build$/);
    assertProblem(checkBindMounts(context), /^services-postgresql: bind mount source docker\/postgres\/missing\.sql/);
    // Without its init script the service databases do not exist.
    assertProblem(checkDatabaseUrls(context), /database "orders" is not created by services-postgresql's environment/);
  });

  test('a Dockerfile without FROM, with a missing COPY source, running as root', () => {
    const dockerfile = [
      'WORKDIR /app',
      'COPY package.json yarn.lock ./',
      'ENV API_HOTS=0.0.0.0',
      'CMD ["npm", "start"]',
    ];
    const context = realContext(overlayFiles(diskFiles(), { Dockerfile: dockerfile.join('\n') }));
    const problems = checkDockerfile(context);
    assertProblem(problems, /the first instruction \(after ARGs\) must be FROM/);
    assertProblem(problems, /COPY source yarn\.lock does not exist/);
    assertProblem(problems, /runs as root/);
    assertProblem(problems, /ENV API_HOTS is not a variable src\/config\.ts reads \(did you mean API_HOST\?\)/);
    // The image's default command (npm start) would run every process in one container.
    assertProblem(
      problems,
      /default command: npm start → tsx tooling\/start\/main\.ts: tooling\/start\/main\.ts runs every process/,
    );
  });

  test('a .dockerignore that lets node_modules in and keeps prisma/ out', () => {
    const context = realContext(overlayFiles(diskFiles(), { '.dockerignore': 'prisma/\n' }));
    const problems = checkDockerfile(context);
    assertProblem(problems, /\.dockerignore excludes prisma, which the image needs/);
    assertProblem(problems, /\.dockerignore does not exclude node_modules\//);
  });
});

describe('check:compose against the cluster the tests ran (tooling/cluster)', () => {
  const version = pinnedServerVersion();

  test('the server image at another version than deploy/temporal-server/go.mod pins, and admin-tools too', () => {
    const context = brokenCompose((services) => {
      const history = services['temporal-history'];
      const schema = services['temporal-schema'];
      assert.ok(history && schema);
      history.image = 'temporalio/server:1.31.0';
      schema.image = 'temporalio/admin-tools:1.29.1-tctl-1.18.4-cli-1.5.0';
    });
    const problems = checkTemporalServer(context);
    assertProblem(
      problems,
      new RegExp(
        `^temporal-history: temporalio/server:1\\.31\\.0, but the cluster tests ran ${version.replace(/\./g, '\\.')}`,
      ),
    );
    assertProblem(
      problems,
      /^temporal-schema: temporalio\/admin-tools:1\.29\.1-tctl.* is not the tested server's release/,
    );
    // The other way round: go.mod moves to a new release and compose stays behind.
    const moved = checkTemporalServer(realContext(), { ...testedCluster(), serverVersion: '9.9.9' });
    for (const name of serverContainers) {
      assertProblem(moved, new RegExp(`^${name}: temporalio/server:.*, but the cluster tests ran 9\\.9\\.9`));
    }
    assertProblem(moved, /^temporal-namespace: temporalio\/admin-tools:.* is not the tested server's release 9\.9\.9/);
    // The Web UI: compose runs the version npm run cluster builds and runs.
    const newUi = checkTemporalServer(realContext(), { ...testedCluster(), uiVersion: '9.9.9' });
    assertProblem(newUi, /^temporal-ui: temporalio\/ui:.*, but npm run cluster runs the Web UI 9\.9\.9/);
    assert.deepEqual(checkTemporalServer(realContext()), []);
    // The deprecated image that this file used to run.
    const autoSetup = brokenCompose((services) => {
      const frontend = services['temporal-frontend'];
      assert.ok(frontend);
      frontend.image = 'temporalio/auto-setup:1.29.1';
    });
    assertProblem(checkTemporalServer(autoSetup), /^temporal-frontend: temporalio\/auto-setup:1\.29\.1 is deprecated/);
  });

  test('services merged into one container, or missing', () => {
    const context = brokenCompose((services) => {
      environment(services['temporal-frontend']).TEMPORAL_SERVICES = 'frontend,matching';
      delete environment(services['temporal-history']).TEMPORAL_SERVICES;
      delete services['temporal-internal-worker'];
    });
    const problems = checkTemporalServer(context);
    assertProblem(problems, /^temporal-frontend: runs frontend, matching in one container; the tested cluster runs/);
    assertProblem(problems, /^temporal-history: TEMPORAL_SERVICES is unset, so it runs every Temporal service/);
    const none = brokenCompose((services) => {
      delete services['temporal-internal-worker'];
    });
    assertProblem(checkTemporalServer(none), /^no container runs the Temporal worker service/);
  });

  test('the dynamic config not mounted, another file, or not pointed at', () => {
    const context = brokenCompose((services) => {
      const matching = services['temporal-matching'];
      const history = services['temporal-history'];
      assert.ok(matching && history);
      matching.volumes = [];
      history.volumes = ['./deploy/temporal/other.yaml:/etc/temporal/config/dynamicconfig/order-saga.yaml:ro'];
      delete environment(services['temporal-frontend']).DYNAMIC_CONFIG_FILE_PATH;
    });
    const problems = checkTemporalServer(context);
    assertProblem(
      problems,
      /^temporal-matching: nothing is mounted at DYNAMIC_CONFIG_FILE_PATH .*; mount deploy\/temporal\/dynamicconfig\.yaml there/,
    );
    assertProblem(
      problems,
      /^temporal-history: its dynamic config is deploy\/temporal\/other\.yaml, but the cluster tests ran with deploy\/temporal\/dynamicconfig\.yaml/,
    );
    assertProblem(problems, /^temporal-frontend: DYNAMIC_CONFIG_FILE_PATH is unset/);
    assertProblem(problems, /^DYNAMIC_CONFIG_FILE_PATH differs between the Temporal server containers/);
  });

  test('persistence other than the tested one', () => {
    const context = brokenCompose((services) => {
      environment(services['temporal-frontend']).DB = 'mysql8';
      environment(services['temporal-matching']).POSTGRES_PWD = 'wrong';
      for (const name of serverContainers) environment(services[name]).NUM_HISTORY_SHARDS = '512';
    });
    const problems = checkTemporalServer(context);
    assertProblem(problems, /^temporal-frontend: DB is mysql8, but the tested cluster runs on postgres12/);
    assertProblem(
      problems,
      /^temporal-matching: POSTGRES_PWD differs from the password temporal-postgresql gives temporal/,
    );
    assertProblem(problems, /^temporal-history: NUM_HISTORY_SHARDS is 512, but the tested cluster has 4/);
    assertProblem(problems, /^DB differs between the Temporal server containers/);
  });

  test('the schema job: other steps, another plugin, and servers that do not wait for it', () => {
    const context = brokenCompose((services) => {
      editScript(services['temporal-schema'], (script) =>
        script
          .replace('temporal-sql-tool --db temporal_visibility setup-schema -v 0.0\n', '')
          .replace('v12/temporal/versioned', 'v12/visibility/versioned')
          .replace('--db temporal create-database', '--db temporal --plugin mysql8 create-database'),
      );
      delete services['temporal-history']?.depends_on;
    });
    const problems = checkTemporalSchema(context);
    assertProblem(
      problems,
      /^temporal-schema: runs create-database; update-schema -d \/etc\/temporal\/schema\/postgresql\/v12\/visibility\/versioned on temporal_visibility, but the tested cluster runs create-database; setup-schema -v 0\.0; update-schema/,
    );
    assertProblem(
      problems,
      /^temporal-schema: runs .*v12\/visibility\/versioned on temporal, but the tested cluster runs .*v12\/temporal\/versioned/,
    );
    assertProblem(
      problems,
      /^temporal-schema: temporal-sql-tool --db temporal uses plugin mysql8; the tested cluster uses postgres12/,
    );
    assertProblem(problems, /^temporal-history: does not wait for temporal-schema \(service_completed_successfully\)/);
    const none = brokenCompose((services) => {
      delete services['temporal-schema'];
    });
    assertProblem(checkTemporalSchema(none), /^no service runs temporal-sql-tool/);
  });

  test('the namespace: another name, another retention, none, or before the frontend', () => {
    const retention = (value: string) =>
      brokenCompose((services) =>
        editScript(services['temporal-namespace'], (script) => script.replace('--retention 72h', value)),
      );
    assertProblem(
      checkTemporalNamespace(retention('--retention 24h')),
      /^temporal-namespace: creates default with retention 24h, but the tested cluster keeps 72h/,
    );
    assertProblem(checkTemporalNamespace(retention('')), /^temporal-namespace: creates default without --retention/);
    // The same duration spelled otherwise is the same retention.
    assert.deepEqual(checkTemporalNamespace(retention('--retention 3d')), []);
    const context = brokenCompose((services) => {
      editScript(services['temporal-namespace'], (script) =>
        script.replace('namespace create --namespace default', 'namespace create --namespace orders'),
      );
      delete (services['temporal-namespace']?.depends_on as Json)['temporal-frontend'];
    });
    const problems = checkTemporalNamespace(context);
    assertProblem(problems, /^temporal-namespace: creates namespace orders, but the tested cluster's is default/);
    assertProblem(
      problems,
      /^temporal-namespace: does not wait for the Temporal frontend \(temporal-frontend\) to be healthy/,
    );
    const none = brokenCompose((services) => {
      editScript(services['temporal-namespace'], (script) =>
        script.replace(/temporal operator namespace create/g, 'true'),
      );
    });
    assertProblem(checkTemporalNamespace(none), /^no service runs `temporal operator namespace create`/);
  });

  test('the API or a worker starting before the namespace and its search attributes exist', () => {
    const context = brokenCompose((services) => {
      delete (services.api?.depends_on as Json)['temporal-namespace'];
      (services['worker-payments']?.depends_on as Json)['temporal-namespace'] = { condition: 'service_started' };
    });
    const problems = checkSearchAttributes(context);
    assertProblem(problems, /^api: does not wait for temporal-namespace \(service_completed_successfully\)/);
    assertProblem(problems, /^worker-payments: does not wait for temporal-namespace/);
  });

  test('a worker without a healthcheck, or probing what it does not serve', () => {
    const context = brokenCompose((services) => {
      const payments = services['worker-payments'];
      const orders = services['worker-orders'];
      assert.ok(payments && orders);
      payments.healthcheck = { disable: true };
      orders.healthcheck = {
        test: ['CMD', 'node', '-e', "fetch('http://127.0.0.1:3102/health').then(() => process.exit(0))"],
      };
      environment(services['worker-shipping']).WORKER_STATUS_HOST = '10.0.0.5';
      environment(services['worker-inventory']).INVENTORY_WORKER_STATUS_PORT = '0';
    });
    const problems = checkWorkerHealth(context);
    assertProblem(
      problems,
      /^worker-payments: has no healthcheck; call the worker's GET \/health \(http:\/\/127\.0\.0\.1:3103\/health/,
    );
    assertProblem(
      problems,
      /^worker-orders: its healthcheck calls http:\/\/127\.0\.0\.1:3102\/health, but the worker serves GET \/health on 127\.0\.0\.1:3101/,
    );
    assertProblem(
      problems,
      /^worker-shipping: its healthcheck calls .*, but the worker serves GET \/health on 10\.0\.0\.5:3104/,
    );
    assertProblem(problems, /^worker-inventory: its status page is off \(INVENTORY_WORKER_STATUS_PORT=0\)/);
    // Opened to every address, the page still answers on loopback inside the container.
    const open = brokenCompose((services) => {
      environment(services['worker-shipping']).WORKER_STATUS_HOST = '0.0.0.0';
    });
    assert.deepEqual(checkWorkerHealth(open), []);
  });

  test('shell scripts and durations', () => {
    const script =
      'set -eu\nfoo > /dev/null 2>&1 || temporal operator namespace create -n x --retention=1h && echo done';
    assert.deepEqual(invocations(script, ['temporal', 'operator', 'namespace', 'create']), [
      ['-n', 'x', '--retention=1h'],
    ]);
    assert.equal(durationMs('72h'), durationMs('3d'));
    assert.equal(durationMs('1h30m'), 5_400_000);
    assert.equal(durationMs('72 hours'), undefined);
  });
});

describe('check:compose parsing', () => {
  test('YAML errors and duplicate keys are reported', () => {
    assert.ok(parseCompose('services: [unclosed').problems.length > 0);
    const duplicate = parseCompose('services:\n  api:\n    image: a:1\n  api:\n    image: b:1\n');
    assert.equal(duplicate.compose, undefined);
    assertProblem(duplicate.problems, /unique/i);
  });

  test('interpolation: defaults, literal $$, and references without a default', () => {
    const problems: string[] = [];
    assert.equal(interpolate('temporalio/ui:${UI_VERSION:-2.34.0}', 'x', problems), 'temporalio/ui:2.34.0');
    assert.equal(interpolate('tries=$$((tries + 1))', 'x', problems), 'tries=$((tries + 1))');
    assert.deepEqual(problems, []);
    interpolate('postgresql://${DB_USER}@db/orders', 'api.environment.ORDERS_DATABASE_URL', problems);
    assertProblem(problems, /^api\.environment\.ORDERS_DATABASE_URL: \$\{DB_USER\} has no default/);
  });

  test('commands: npm scripts, npx tsx, node --import tsx', () => {
    const context = realContext();
    const worker = resolveProcess(['npm', 'run', 'worker:payments'], context);
    assert.deepEqual(typeof worker === 'string' ? worker : worker.role, { kind: 'worker', service: 'payments' });
    const api = resolveProcess(['npx', 'tsx', 'src/api/server.ts'], context);
    assert.deepEqual(typeof api === 'string' ? api : api.role, { kind: 'api' });
    const problem = (argv: string[]) => {
      const resolved = resolveProcess(argv, context);
      assert.equal(typeof resolved, 'string', `${argv.join(' ')} resolved to ${JSON.stringify(resolved)}`);
      return resolved as string;
    };
    assert.match(problem(['npm', 'run', 'worker:billing']), /no script "worker:billing"/);
    assert.match(problem(['node', 'src/api/server.ts']), /cannot run TypeScript/);
    assert.match(problem(['sh', '-c', 'npm run api']), /not a command this check understands/);
    assert.match(problem(['npm', 'start']), /^npm start → tsx tooling\/start\/main\.ts: /);
    // The migration job: every database without arguments, or those named.
    const migrate = resolveProcess(['npm', 'run', 'db:migrate'], context);
    assert.deepEqual(typeof migrate === 'string' ? migrate : migrate.role, {
      kind: 'migrate',
      databases: [...databaseNames],
    });
    const readModelOnly = resolveProcess(
      ['node', '--import', 'tsx', 'scripts/prisma.ts', 'migrate', readModelDatabase],
      context,
    );
    assert.deepEqual(typeof readModelOnly === 'string' ? readModelOnly : readModelOnly.role, {
      kind: 'migrate',
      databases: [readModelDatabase],
    });
    assert.match(problem(['npm', 'run', 'db:migrate', '--', 'billing']), /migrates an unknown database "billing"/);
  });

  test('ports: short and long syntax', () => {
    const problems: string[] = [];
    assert.deepEqual(parsePorts(['127.0.0.1:8233:8080', '3000', { target: 7233, published: 7233 }], 's', problems), [
      { hostIp: '127.0.0.1', published: 8233, target: 8080, protocol: 'tcp' },
      { hostIp: '', published: undefined, target: 3000, protocol: 'tcp' },
      { hostIp: '', published: 7233, target: 7233, protocol: 'tcp' },
    ]);
    assert.equal(parsePorts(['[::1]:9000-9001:9000-9001/udp'], 's', problems).length, 2);
    parsePorts(['80:80:80:80'], 's', problems);
    assertProblem(problems, /port "80:80:80:80" is not/);
  });

  test('.dockerignore patterns', () => {
    const ignore = '# comment\nnode_modules/\n/data\n**/*.log\nprisma/*/*/schema.prisma\n!keep.log\n';
    assert.equal(isDockerignored(ignore, 'node_modules/pg/index.js'), true);
    assert.equal(isDockerignored(ignore, 'data'), true);
    assert.equal(isDockerignored(ignore, 'logs/api.log'), true);
    assert.equal(isDockerignored(ignore, 'keep.log'), false);
    assert.equal(isDockerignored(ignore, 'prisma/orders/sqlite/schema.prisma'), true);
    assert.equal(isDockerignored(ignore, 'prisma/orders/models.prisma'), false);
    assert.equal(isDockerignored(ignore, 'src/data.ts'), false);
  });

  test('Dockerfile: continuations, comments inside them, stages and global ARGs', () => {
    const dockerfile = parseDockerfile(
      [
        'ARG BASE=node:20-slim',
        'FROM ${BASE} AS deps',
        'RUN a \\',
        '  # a comment inside the continuation',
        ' && b',
        'FROM deps',
        'CMD ["node", "x.js"]',
      ].join('\n'),
    );
    assert.deepEqual(dockerfile.stages, [
      { image: 'node:20-slim', name: 'deps' },
      { image: 'deps', name: undefined },
    ]);
    assert.deepEqual(
      dockerfile.instructions.map(({ keyword, stage }) => `${stage}:${keyword}`),
      ['-1:ARG', '0:FROM', '0:RUN', '1:FROM', '1:CMD'],
    );
    assert.equal(dockerfile.instructions[2]?.text.replace(/\s+/g, ' '), 'a && b');
  });
});
