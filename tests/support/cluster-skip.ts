import { isExecutableFile, temporalLayout } from '../../tooling/temporal/servers';

/**
 * Why a test on the real Temporal cluster cannot run here (false when it can): it needs the server that
 * `npm run setup:temporal` builds and a PostgreSQL role that may create databases (TEST_POSTGRES_URL).
 */
export function clusterTestSkip(postgresUrl = process.env.TEST_POSTGRES_URL): string | false {
  if (!postgresUrl) return 'needs TEST_POSTGRES_URL (a PostgreSQL role that may create databases) for the cluster';
  if (!isExecutableFile(temporalLayout.server)) return `needs ${temporalLayout.server}: run npm run setup:temporal`;
  return false;
}
