import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { ApiKeyEntry, ApiRole } from '../config';
import { HttpProblem } from './problem';

/**
 * Who may call the order routes, and how often. A caller presents an API key
 * (`Authorization: Bearer <key>` or `X-API-Key: <key>`); the API knows only
 * the keys' SHA-256 hashes (API_KEYS) and compares in constant time. Health
 * probes and the documentation stay open.
 */

export type ApiAuth = { mode: 'off' } | { mode: 'required'; keys: readonly ApiKeyEntry[] };

export interface Protection {
  auth: ApiAuth;
  /** Requests per minute per key (per client IP for callers without a key); health probes are exempt. */
  rateLimitPerMinute: number;
}

/** For tests of other concerns only: anyone may do anything, as often as they like. */
export const unprotected: Protection = { auth: { mode: 'off' }, rateLimitPerMinute: Number.POSITIVE_INFINITY };

export interface Caller {
  name: string;
  role: ApiRole;
  /** The key's hash: what the rate limit counts by. */
  keyHash: string;
}

/** Who sent a request: no one checks under API_AUTH=off; otherwise a known key's caller, or none. */
type Access = { mode: 'off' } | { mode: 'required'; caller: Caller | undefined };

export const apiKeyHeader = 'X-API-Key';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function presentedKey(request: Request): string | undefined {
  const authorization = request.get('authorization');
  const bearer = authorization ? /^Bearer +(\S+) *$/i.exec(authorization)?.[1] : undefined;
  return bearer ?? (request.get(apiKeyHeader)?.trim() || undefined);
}

/** Every configured hash is compared, so the time taken does not tell how many entries a guess got past. */
function callerFor(key: string, keys: readonly ApiKeyEntry[]): Caller | undefined {
  const presented = Buffer.from(hashApiKey(key), 'hex');
  let found: ApiKeyEntry | undefined;
  for (const entry of keys) {
    if (timingSafeEqual(presented, Buffer.from(entry.sha256, 'hex')) && !found) found = entry;
  }
  return found && { name: found.name, role: found.role, keyHash: found.sha256 };
}

const accessOfRequest = new WeakMap<Request, Access>();

function accessOf(request: Request): Access {
  const access = accessOfRequest.get(request);
  if (!access) throw new Error('identifyCaller did not run before this route');
  return access;
}

/** Resolves the request's key to a caller; refuses nothing (requireCaller and the routes do). */
export function identifyCaller(auth: ApiAuth): RequestHandler {
  return (request, _response, next) => {
    if (auth.mode === 'off') {
      accessOfRequest.set(request, { mode: 'off' });
    } else {
      const key = presentedKey(request);
      accessOfRequest.set(request, { mode: 'required', caller: key ? callerFor(key, auth.keys) : undefined });
    }
    next();
  };
}

export class Unauthenticated extends HttpProblem {
  constructor() {
    super(401, 'Unauthenticated', `Send a valid API key as "Authorization: Bearer <key>" or "${apiKeyHeader}: <key>"`);
  }
}

/** 401 for a request without a known key, before its body is read. */
export const requireCaller: RequestHandler = (request, response, next) => {
  const access = accessOf(request);
  if (access.mode === 'required' && !access.caller) {
    response.setHeader('WWW-Authenticate', 'Bearer');
    next(new Unauthenticated());
    return;
  }
  next();
};

function forbidden(detail: string): HttpProblem {
  return new HttpProblem(403, 'Forbidden', detail);
}

/** Approvals, rejections and compensation decisions. */
export function requireOperator(request: Request): void {
  const access = accessOf(request);
  if (access.mode === 'required' && access.caller?.role !== 'operator') {
    throw forbidden('Only an operator may take this decision');
  }
}

/**
 * A customer acts on their own orders only (their key's name is their
 * customerId); an operator on any. `customerId` may be a promise, so an
 * operator's request does not wait for looking it up.
 */
export async function requireOwnerOrOperator(
  request: Request,
  customerId: () => Promise<string | undefined> | string | undefined,
): Promise<void> {
  const access = accessOf(request);
  if (access.mode === 'off' || access.caller?.role === 'operator') return;
  const owner = await customerId();
  if (owner === undefined || owner !== access.caller?.name) {
    throw forbidden(`This key acts for customer ${access.caller?.name ?? '(none)'} only`);
  }
}

/** What the rate limit counts by: the key, or for callers without one their IP (IPv6 by /56). */
function rateLimitKey(request: Request): string {
  const access = accessOf(request);
  if (access.mode === 'required' && access.caller) return `key:${access.caller.keyHash}`;
  return `ip:${ipKeyGenerator(request.ip ?? 'unknown')}`;
}

/** A maintained limiter (express-rate-limit, in memory: per API process) answering 429 problem+json. */
export function rateLimitPerCaller(perMinute: number): RequestHandler {
  if (!Number.isFinite(perMinute)) return (_request, _response, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    // RateLimit and RateLimit-Policy (IETF draft 8) on every answer; Retry-After on a 429.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (request) => request.path.startsWith('/health/'),
    keyGenerator: rateLimitKey,
    handler: (_request, _response, next, options) => {
      next(
        new HttpProblem(
          429,
          'Too many requests',
          `More than ${String(options.limit)} requests in a minute; wait for the seconds in Retry-After`,
        ),
      );
    },
  });
}
