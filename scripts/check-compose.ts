/**
 * Static checks of docker-compose.yml, the Dockerfile, .dockerignore and the
 * PostgreSQL init script against the code, for machines without a Docker
 * engine (CI, and this project's own):
 *
 *   npm run check:compose
 *
 * Exits 1 with the list of problems, 0 with a one-line summary per rule. What
 * it catches: an environment variable that src/config.ts does not read (a
 * typo silently becomes a default), a database URL the app would reject or
 * that points at a database the init script does not create, a `depends_on`
 * target that does not exist, a worker command for an unknown service, search
 * attributes that differ from src/temporal/search-attributes.ts, colliding
 * published ports, a Dockerfile COPY of a missing file, and more; each rule in
 * scripts/compose-check/rules/ says what it checks. `docker compose config -q`
 * is run as well when a Compose client is installed (it needs no engine);
 * otherwise that part is reported as skipped.
 *
 * tests/unit/compose.test.ts runs the rules on the real files and on broken copies.
 */
import { dockerComposeConfig } from './compose-check/docker-compose-config';
import { report, runChecks } from './compose-check/runner';

const { exitCode, lines } = report(runChecks(), dockerComposeConfig());
for (const line of lines) console.log(line);
process.exitCode = exitCode;
