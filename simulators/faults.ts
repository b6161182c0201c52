import { isIP } from 'node:net';
import { json, Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { partnerFaultsSchema, type PartnerFaults } from '../src/partners/contract';
import { describeIssues, invalidRequest, PartnerError, requireJsonBody, unavailable } from './problem';

/**
 * Injected faults, switchable while the partner runs (`PUT /admin/faults`),
 * so tests and the chaos run can make a partner slow, flaky or down and back.
 */
export interface FaultSwitch {
  current: PartnerFaults;
}

export function createFaultSwitch(initial: z.input<typeof partnerFaultsSchema> = {}): FaultSwitch {
  return { current: partnerFaultsSchema.parse(initial) };
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (how a dual-stack socket reports an IPv4 peer). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const lower = address.toLowerCase();
  const ipv4 = lower.startsWith('::ffff:') ? lower.slice('::ffff:'.length) : lower;
  if (isIP(ipv4) === 4) return ipv4.startsWith('127.');
  return lower === '::1' || lower === '0:0:0:0:0:0:0:1';
}

/**
 * The socket's peer, never a forwarding header: anyone can write those, and
 * the fault switch must not be reachable from outside the machine.
 */
const loopbackOnly: RequestHandler = (request, _response, next) => {
  if (isLoopbackAddress(request.socket.remoteAddress)) {
    next();
    return;
  }
  next(new PartnerError(403, 'forbidden', 'Forbidden', 'The fault controls answer loopback callers only'));
};

/**
 * Waits `ms`, or less if the caller hangs up first (then there is no one to
 * answer; nor does a pending timer hold up a graceful shutdown). Resolves
 * whether the caller is still there.
 */
export function waitUnlessCallerLeaves(ms: number, response: Response): Promise<boolean> {
  if (response.closed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const callerLeft = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      response.off('close', callerLeft);
      resolve(true);
    }, ms);
    response.once('close', callerLeft);
  });
}

/**
 * Applies the current faults to a request: `down` answers 503 at once;
 * otherwise the latency passes first, then a share `failureRate` of requests
 * is answered 503, and only the rest is handled. A caller that gives up while
 * its request waits out the latency is not handled at all: the latency fault
 * never moves money behind a caller's back (tok_timeout_after_charge does).
 */
function injectFaults(faults: FaultSwitch): RequestHandler {
  return async (_request, response, next) => {
    const { down, latencyMs, failureRate } = faults.current;
    if (down) {
      next(unavailable('The service is down'));
      return;
    }
    if (!(await waitUnlessCallerLeaves(latencyMs, response))) return;
    if (Math.random() < failureRate) {
      next(unavailable('A transient failure: nothing was done, try again'));
      return;
    }
    next();
  };
}

export interface PartnerFrontDoorPaths {
  health: string;
  faults: string;
}

/**
 * Mounted first in a partner's app: the health route and the fault controls,
 * which no fault affects (so a test can always switch a partner back on),
 * then the fault injection every other route sits behind.
 */
export function partnerFrontDoor(faults: FaultSwitch, paths: PartnerFrontDoorPaths): Router {
  const router = Router();
  router.get(paths.health, (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.use(paths.faults, loopbackOnly);
  router.get(paths.faults, (_request, response) => {
    response.json(faults.current);
  });
  router.put(paths.faults, requireJsonBody, json({ limit: '4kb' }), (request, response) => {
    const parsed = partnerFaultsSchema.safeParse(request.body);
    if (!parsed.success) {
      throw invalidRequest(describeIssues(parsed.error));
    }
    faults.current = parsed.data;
    response.json(faults.current);
  });
  router.use(injectFaults(faults));
  return router;
}
