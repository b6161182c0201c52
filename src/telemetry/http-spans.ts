import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { Request, RequestHandler } from 'express';

/**
 * A server span per request, named after the route that answered (`POST /orders`, `GET /orders/:orderId`), and
 * active while the request is handled, so the workflow start it causes is its child. A caller's `traceparent` is
 * continued.
 *
 * A middleware rather than @opentelemetry/instrumentation-http: that one patches `http` when it is loaded, so it
 * must be registered before anything imports it, which under ESM and tsx means a preloaded `--import` module for the
 * API alone; and it knows no Express route (its span would be `POST`). Here the span exists only when tracing is on.
 */
export function httpServerSpans(tracer: Tracer): RequestHandler {
  return (request, response, next) => {
    const parent = propagation.extract(context.active(), request.headers);
    const span = tracer.startSpan(
      request.method,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_URL_PATH]: request.path },
      },
      parent,
    );
    response.once('finish', () => {
      const route = routeOf(request);
      if (route !== undefined) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
      const requestId = response.getHeader('x-request-id');
      if (typeof requestId === 'string') span.setAttribute('http.response.header.x-request-id', requestId);
      // As OpenTelemetry's HTTP conventions say for a server: only a 5xx is the server's error.
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    // A connection closed before the answer was sent: the span still ends.
    response.once('close', () => {
      if (!response.writableFinished) span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/** The matched route's pattern, as mounted; undefined when no route matched (a 404), to keep span names few. */
function routeOf(request: Request): string | undefined {
  const route = (request.route as { path?: unknown } | undefined)?.path;
  return typeof route === 'string' ? `${request.baseUrl}${route}` : undefined;
}
