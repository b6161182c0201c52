import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import type { ApiMetrics } from '../metrics/api';
import type { ReadinessCheck } from './health';
import type { OpenApiDocument, OpenApiParameter, OpenApiResponse } from './openapi-parts';
import type { OrderRuns } from './order-runs';
import type { ReadModel } from './order-views';
import type { Placement } from './placement';
import { HttpProblem, type FieldError } from './problem';

export const httpMethods = ['get', 'post'] as const;
export type HttpMethod = (typeof httpMethods)[number];

/** What the routes' handlers work with, built once per app (src/api/app.ts). */
export interface RouteServices {
  orders: OrderRuns;
  placement: Placement;
  readinessChecks: ReadinessCheck[];
  /** Absent: the read side's routes are not served. */
  readModel?: ReadModel;
  metrics: ApiMetrics;
  /** The document the docs routes serve (built from the route table, so handed in rather than imported). */
  document: OpenApiDocument;
}

/** One request to a route, its body parsed by the route's own schema when the handler asks for it. */
export interface RouteCall<Body> {
  request: Request;
  response: Response;
  next: NextFunction;
  /** The body as the route's schema parses it; 400 with the invalid fields otherwise. */
  body: () => Body;
}

export type RouteHandler<Body = undefined> = (call: RouteCall<Body>) => Promise<void> | void;

/** A route as the table declares it: what the router serves and what the OpenAPI document says of it. */
export interface Route<Body = unknown> {
  method: HttpMethod;
  /** OpenAPI's template (`/orders/{orderId}`); the router gets Express's (`/orders/:orderId`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Its parameters besides X-Request-Id, which every route takes. */
  parameters?: OpenApiParameter[];
  body?: { schema: z.ZodType<Body>; required: boolean };
  /** Alternatives: any one of them suffices. Absent: the route is open. */
  security?: Record<string, string[]>[];
  /** Its answers besides `default` (any other failure), which every route has. */
  responses: Record<string, OpenApiResponse>;
  /** Served before callers are identified: no API key looked at, no rate limit, no body read (Prometheus scrapes). */
  beforeCallers?: true;
  /** Its handler, given what it needs; undefined when the app lacks it, and the route is then not served. */
  handler: (services: RouteServices) => RouteHandler<Body> | undefined;
}

/** Declares a route, checking that its handler takes the body its schema parses. */
export function route<Body = undefined>(declared: Route<Body>): Route {
  return declared as unknown as Route;
}

function fieldErrors(error: z.ZodError, whole: string): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : whole,
    message: issue.message,
  }));
}

/** The request body parsed by `schema`: 400 with one entry per invalid field otherwise. */
function parseBody<T>(schema: z.ZodType<T>, request: Request): T {
  const parsed = schema.safeParse(request.body ?? {});
  if (!parsed.success) {
    throw new HttpProblem(
      400,
      'Invalid request',
      'The request body has invalid fields',
      fieldErrors(parsed.error, '(body)'),
    );
  }
  return parsed.data;
}

/** The query string parsed by `schema`: 400 with one entry per invalid parameter otherwise. */
export function parseQuery<T>(schema: z.ZodType<T>, request: Request): T {
  const parsed = schema.safeParse(request.query);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error, '(query)');
    throw new HttpProblem(400, 'Invalid request', 'The query string has invalid parameters', errors);
  }
  return parsed.data;
}

/** Express's spelling of an OpenAPI path template. */
function expressPath(template: string): string {
  return template.replace(/\{(\w+)\}/g, ':$1');
}

/** A router serving `routes`, each with the handler `services` give it (routes without one are left out). */
export function routerOf(routes: readonly Route[], services: RouteServices): Router {
  const router = Router();
  for (const { method, path, body, handler } of routes) {
    const handle = handler(services);
    if (!handle) continue;
    const serve: RequestHandler = (request, response, next) =>
      handle({
        request,
        response,
        next,
        body: () => {
          if (!body) throw new Error(`${method.toUpperCase()} ${path} declares no body`);
          return parseBody(body.schema, request);
        },
      });
    router[method](expressPath(path), serve);
  }
  return router;
}

/** The methods each declared path takes, as `Allow` lists them: HEAD wherever GET is (Express answers it), OPTIONS. */
function allowedMethods(routes: readonly Route[]): (path: string) => string[] | undefined {
  const byPath = new Map<string, string[]>();
  for (const { method, path } of routes) byPath.set(path, [...(byPath.get(path) ?? []), method.toUpperCase()]);
  const templates = [...byPath].map(([template, declared]) => {
    const methods = [...declared, ...(declared.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
    const pattern = template
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    return { path: new RegExp(`^${pattern}/?$`), methods };
  });
  return (path) => templates.find((template) => template.path.test(path))?.methods;
}

/**
 * OPTIONS on a declared path: 204 with `Allow` listing what the table declares for it. Express's own answer would
 * list only the methods of the routes it tried. Mounted before the API keys are asked for, as browsers send it
 * (CORS preflight) without credentials.
 */
export function answerOptions(routes: readonly Route[]): RequestHandler {
  const methodsOf = allowedMethods(routes);
  return (request, response, next) => {
    const methods = request.method === 'OPTIONS' ? methodsOf(request.path) : undefined;
    if (!methods) {
      next();
      return;
    }
    response.setHeader('Allow', methods.join(', '));
    response.status(204).end();
  };
}

/**
 * 405 with `Allow` for a method the table does not declare on a path it declares (RFC 9110 §15.5.6), rather than
 * the 404 of a path that does not exist. Mounted after every route, so it sees only requests no route took.
 */
export function methodNotAllowed(routes: readonly Route[]): RequestHandler {
  const methodsOf = allowedMethods(routes);
  return (request, response, next) => {
    const methods = methodsOf(request.path);
    if (!methods || methods.includes(request.method)) {
      next();
      return;
    }
    response.setHeader('Allow', methods.join(', '));
    next(
      new HttpProblem(405, 'Method not allowed', `${request.path} takes ${methods.join(', ')}, not ${request.method}`),
    );
  };
}
