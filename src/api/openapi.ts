import packageJson from '../../package.json' with { type: 'json' };
import {
  componentSchemas,
  jsonBody,
  otherProblems,
  requestIdParameter,
  securitySchemes,
  type OpenApiDocument,
  type OpenApiOperation,
} from './openapi-parts';
import type { Route } from './route';
import { routes } from './routes';

/**
 * The OpenAPI 3.1 document of the API, derived from the route table (src/api/routes.ts) and the zod schemas the
 * routes validate with, served at /openapi.json and shown by Swagger UI at /docs.
 */

export { docsPath, openApiPath } from './docs';
export type * from './openapi-parts';
export { httpMethods, type HttpMethod } from './route';

/** A route as the document describes it: X-Request-Id and the `default` answer are every route's. */
function operationOf(route: Route): OpenApiOperation {
  const { operationId, summary, description, tags, parameters = [], body, security, responses } = route;
  return {
    operationId,
    summary,
    ...(description !== undefined && { description }),
    tags,
    parameters: [...parameters, requestIdParameter],
    ...(body && { requestBody: jsonBody(body.schema, body.required) }),
    ...(security && { security }),
    responses: { ...responses, default: otherProblems },
  };
}

function pathsOf(table: readonly Route[]): OpenApiDocument['paths'] {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of table) paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route) };
  return paths;
}

export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Order saga API',
    version: packageJson.version,
    description:
      'Places orders that run as Temporal sagas, shows their state, and takes the decisions of customers and ' +
      'operators. Every error is RFC 9457 `application/problem+json`; every answer carries `X-Request-Id`. ' +
      'A path not listed here answers 404, a method not listed for a path 405 with `Allow` (both problem+json); a ' +
      "problem's `type` resolves, against the request's URL, to a page describing it (GET /problems/{type}); every " +
      "503 carries `Retry-After`. The order routes need an API key (a customer's acts " +
      "on that customer's orders only; an operator's on all, and takes the decisions) unless the API runs with " +
      'API_AUTH=off, as under `npm start`; health probes, metrics and this documentation are open.',
  },
  tags: [
    { name: 'Orders', description: 'Placing, watching and cancelling orders.' },
    { name: 'Operators', description: 'Decisions an operator takes on an order.' },
    { name: 'Health', description: 'Probes for orchestrators and load balancers.' },
    { name: 'Monitoring', description: 'Metrics for Prometheus.' },
    { name: 'Documentation', description: 'This document and its interactive page.' },
  ],
  paths: pathsOf(routes),
  components: { schemas: componentSchemas(), securitySchemes },
};
