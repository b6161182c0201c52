import type { Payload, PayloadCodec } from '@temporalio/common';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { noRouteDetail, requestFaultOf, sendProblem } from '../http/problem';
import { PayloadDecryptionError } from '../temporal/payload-codec';

/**
 * Temporal's remote codec protocol over HTTP, for the Web UI (and `temporal --codec-endpoint`): `POST …/encode` and
 * `POST …/decode` take `{payloads: [{metadata: {key: base64}, data: base64}]}` (protobuf JSON) and answer the same
 * shape, run through the codec. Only the last path segment counts, as the protocol asks, so it can be mounted under
 * any prefix. The Web UI calls it from the operator's browser: the UI's origins are allowed by CORS, with the
 * `X-Namespace` header and an `Authorization` header the UI forwards when told to pass its access token.
 *
 * Decoding shows addresses and payment tokens to whoever can call it: it listens on loopback by default, and in
 * production it must sit behind the same authentication as the Web UI.
 */

export interface CodecAppOptions {
  codec: PayloadCodec;
  /** The Web UI origins (scheme://host[:port]) a browser may call from. */
  allowedOrigins: readonly string[];
  /** The namespace whose keys this server holds; a request for another is refused. */
  namespace: string;
  logger: Logger;
}

/** Payloads in one request; the Web UI sends one event's or one page's worth. */
export const maxPayloadsPerRequest = 1_000;
const bodyLimit = '8mb';

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
const payloadsBody = z.object({
  // Protobuf JSON leaves an empty list out: the Temporal CLI encodes a query without arguments as `{}`.
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string(), base64).nullish(),
        data: base64.nullish(),
      }),
    )
    .max(maxPayloadsPerRequest)
    .default([]),
});
type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

/** Temporal's own default, which clients assume when no namespace is named. */
const defaultNamespace = 'default';

/**
 * The namespace a request asks for; undefined when it names none (no header: curl, a proxy that strips it). The
 * Temporal CLI sets the header to the namespace given with --namespace, and to an empty value when none is given, in
 * which case its SDK client talks to Temporal's default namespace: so empty means `default`, not "any".
 */
function requestedNamespace(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header === '' ? defaultNamespace : header;
}

class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: { field: string; message: string }[],
  ) {
    super(detail);
  }
}

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: data === undefined || data === null ? undefined : Buffer.from(data, 'base64'),
  };
}

function toJson({ metadata, data }: Payload): { metadata: Record<string, string>; data?: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    ...(data ? { data: Buffer.from(data).toString('base64') } : {}),
  };
}

export function createCodecApp({ codec, allowedOrigins, namespace, logger }: CodecAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const allowed = new Set(allowedOrigins);

  const cors: RequestHandler = (request, response, next) => {
    const origin = request.headers.origin;
    response.vary('Origin');
    // Without an Origin it is no browser (curl, the temporal CLI): CORS does not apply.
    if (origin === undefined) return next();
    if (!allowed.has(origin)) {
      return next(new Problem(403, 'Origin not allowed', `${origin} is not in CODEC_SERVER_CORS_ORIGINS`));
    }
    response.set({
      'Access-Control-Allow-Origin': origin,
      // The Web UI's "include credentials" option sends its cookies along.
      'Access-Control-Allow-Credentials': 'true',
    });
    if (request.method !== 'OPTIONS') return next();
    response
      .set({
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Max-Age': '600',
      })
      .status(204)
      .end();
  };

  const run =
    (operation: 'encode' | 'decode'): RequestHandler =>
    async (request, response) => {
      const requested = requestedNamespace(request.get('x-namespace'));
      if (requested !== undefined && requested !== namespace) {
        throw new Problem(
          403,
          'Wrong namespace',
          `This codec server holds the keys of namespace ${namespace} only` +
            (request.get('x-namespace') === ''
              ? `; an empty X-Namespace (the Temporal CLI without --namespace) means namespace ${defaultNamespace}`
              : ''),
        );
      }
      if (!request.is('application/json')) {
        throw new Problem(415, 'Unsupported media type', 'Send the payloads as application/json');
      }
      const parsed = payloadsBody.safeParse(request.body);
      if (!parsed.success) {
        throw new Problem(
          400,
          'Invalid payloads',
          'The body must be {"payloads": [{"metadata": {...}, "data": "..."}]} with base64 values',
          parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
        );
      }
      const payloads = parsed.data.payloads.map(fromJson);
      const result = await (operation === 'encode' ? codec.encode(payloads) : codec.decode(payloads));
      logger.debug({ operation, namespace, payloads: payloads.length }, 'payloads coded');
      response.json({ payloads: result.map(toJson) });
    };

  app.use(cors);
  app.get('/health', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.use(express.json({ limit: bodyLimit }));
  app.post(/\/encode$/, run('encode'));
  app.post(/\/decode$/, run('decode'));
  app.use((request, _response, next) => {
    next(new Problem(404, 'Not found', `${noRouteDetail(request)}; POST …/encode or …/decode`));
  });
  app.use(problemHandler(logger));
  return app;
}

/** problem+json (RFC 9457) for every failure; never a stack trace, and never a payload's content. */
function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const problem =
      error instanceof Problem
        ? error
        : error instanceof PayloadDecryptionError
          ? new Problem(
              422,
              error.reason === 'unknown-key' ? 'Unknown encryption key' : 'Undecryptable payload',
              error.message,
            )
          : bodyParserProblem(error);
    if (problem.status >= 500) logger.error({ err: error, path: request.path }, 'codec request failed');
    else if (error instanceof PayloadDecryptionError) logger.warn({ keyId: error.keyId }, error.message);
    sendProblem(response, {
      type: `/problems/${problem.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      instance: request.originalUrl,
      ...(problem.errors ? { errors: problem.errors } : {}),
    });
  };
}

function bodyParserProblem(error: unknown): Problem {
  const fault = requestFaultOf(error);
  if (!fault) {
    return new Problem(500, 'Internal error', 'The codec server failed to handle the request; it has been logged');
  }
  switch (fault.kind) {
    case 'malformed-json':
      return new Problem(400, 'Malformed JSON', fault.detail);
    case 'body-too-large':
      return new Problem(413, 'Body too large', `The request body exceeds ${bodyLimit}`);
    default:
      return new Problem(fault.status, 'Bad request', fault.detail);
  }
}
