import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  timeout,
  wrap,
} from 'cockatiel';
import type { z } from 'zod';
import {
  chargeListSchema,
  chargeSchema,
  gatewayPaths,
  idempotencyKeyHeader,
  issuerUnavailableProblemType,
  refundSchema,
  type Charge,
  type ChargeRequest,
  type Refund,
} from './contract';
import { breakerStates, describeFetchError, parseProblem, PartnerRefusal, type BreakerState } from './responses';

/**
 * The payments service's side of the payment gateway: every call goes
 * through three policies from cockatiel, outermost first:
 *
 * - a bulkhead: at most `maxConcurrentCalls` calls in flight per process and
 *   a short queue, so a slow gateway cannot take every activity slot of the
 *   payments worker (the rest fail fast and Temporal retries them later);
 * - a circuit breaker: after `breakAfterFailures` transient failures in a
 *   row it opens, and calls fail at once for `halfOpenAfterMs`, so Temporal's
 *   backoff waits instead of hammering a gateway that is down; one trial call
 *   then closes or reopens it;
 * - a timeout per call, which aborts the HTTP request.
 *
 * A queued call waits at most `maxQueueWaitMs` for a slot, then fails as
 * busy. So a call's whole budget, queue included, is at most
 * `maxQueueWaitMs + callTimeoutMs`, which must stay below the charge step's
 * start-to-close timeout; otherwise a queued attempt would outlive its
 * activity and hold a slot while its retry takes another. A caller that
 * makes several calls in one activity (the refund) passes a deadline, which
 * cuts each call shorter still, so that together they end within it.
 *
 * Retrying is not here: it is Temporal's (the activity's retry policy), and
 * safe because every POST carries the caller's Idempotency-Key.
 */

export interface GatewayClientOptions {
  baseUrl: string;
  callTimeoutMs: number;
  maxConcurrentCalls: number;
  /** Calls that may wait for a free slot; beyond that a call fails at once. */
  maxQueuedCalls: number;
  /** How long a call may wait for a free slot before it fails as busy. */
  maxQueueWaitMs: number;
  breakAfterFailures: number;
  halfOpenAfterMs: number;
}

export const defaultGatewayClientOptions: Omit<GatewayClientOptions, 'baseUrl'> = {
  callTimeoutMs: 5_000,
  maxConcurrentCalls: 8,
  maxQueuedCalls: 4,
  maxQueueWaitMs: 3_000,
  breakAfterFailures: 5,
  halfOpenAfterMs: 5_000,
};

/** The gateway did not answer usefully (down, timed out, 5xx, breaker open, bulkhead full): retry later. */
export class GatewayUnavailable extends Error {
  override name = 'GatewayUnavailable';
  constructor(
    message: string,
    /**
     * Why: 'circuit-open' and 'bulkhead-full' never reached the gateway; 'key-in-use' and 'issuer-unavailable' are
     * answers of a healthy gateway about one request or one card.
     */
    readonly reason:
      | 'unreachable'
      | 'timeout'
      | 'server-error'
      | 'circuit-open'
      | 'bulkhead-full'
      | 'key-in-use'
      | 'issuer-unavailable',
    /** For an open breaker: how long until it lets a trial call through, the earliest a retry can do better. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A call that found no free slot within `maxQueueWaitMs`. */
class QueueWaitExpired extends Error {
  override name = 'QueueWaitExpired';
}

/** A call still queued or in flight when its caller's deadline came. */
class DeadlineReached extends Error {
  override name = 'DeadlineReached';
}

/** What a caller may ask of one call. */
export interface GatewayCallOptions {
  /**
   * Epoch milliseconds by which the call must be over: it fails as a timeout
   * then (or at once, never sent, if the time has already come), even where
   * the client's own queue wait and call timeout would allow longer.
   */
  deadline?: number;
}

/** The gateway answered with a decision about the request (402, 404, 422...): retrying will not change it. */
export class GatewayRefusal extends PartnerRefusal {
  override name = 'GatewayRefusal';
}

export interface GatewayClientStatus {
  breaker: BreakerState;
  /** Every state change since the process started, e.g. { open: 2, 'half-open': 2, closed: 2 }. */
  breakerTransitions: Record<BreakerState, number>;
  callsInFlight: number;
  queuedCalls: number;
}

export type ChargeOutcome = { charged: Charge } | { declined: Charge };

export function createGatewayClient(options: GatewayClientOptions) {
  // A 409 (our own earlier attempt still holds the key) and a card issuer's
  // outage are answers from a healthy gateway, so they do not count towards
  // opening the breaker: one kind of card must not stop every card.
  const transient = handleWhen(
    (error) =>
      (error instanceof GatewayUnavailable && error.reason !== 'key-in-use' && error.reason !== 'issuer-unavailable') ||
      error instanceof TaskCancelledError,
  );
  const breaker = circuitBreaker(transient, {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakAfterFailures),
  });
  const slots = bulkhead(options.maxConcurrentCalls, options.maxQueuedCalls);
  const policy = wrap(slots, breaker, timeout(options.callTimeoutMs, TimeoutStrategy.Aggressive));
  const transitions: Record<BreakerState, number> = { closed: 0, open: 0, 'half-open': 0, isolated: 0 };
  let openedAt = 0;
  breaker.onStateChange((state) => {
    transitions[breakerStates[state]] += 1;
    if (breakerStates[state] === 'open') openedAt = Date.now();
  });

  async function request<S extends z.ZodType>(
    method: 'GET' | 'POST',
    pathname: string,
    schema: S,
    { body, idempotencyKey, deadline }: { body?: unknown; idempotencyKey?: string } & GatewayCallOptions,
  ): Promise<{ status: number; body: z.infer<S> }> {
    const timeLeftMs = deadline === undefined ? undefined : deadline - Date.now();
    if (timeLeftMs !== undefined && timeLeftMs <= 0) {
      throw new GatewayUnavailable(
        "No time left before the caller's deadline: the payment gateway was not called",
        'timeout',
      );
    }
    let started = false;
    // The bulkhead checks a queued call's signal only when a slot frees up, so
    // the caller stops waiting by itself and the abandoned entry ends then.
    const queueWait = new AbortController();
    const queueTimer = setTimeout(() => {
      if (!started) queueWait.abort();
    }, options.maxQueueWaitMs);
    const gaveUp = new Promise<never>((_, reject) =>
      queueWait.signal.addEventListener('abort', () => reject(new QueueWaitExpired()), { once: true }),
    );
    // Aborts the call wherever it is, queued or in flight (the policies pass the signal on to fetch).
    const outOfTime = new AbortController();
    const deadlineTimer = timeLeftMs === undefined ? undefined : setTimeout(() => outOfTime.abort(), timeLeftMs);
    const deadlineReached = new Promise<never>((_, reject) =>
      outOfTime.signal.addEventListener('abort', () => reject(new DeadlineReached()), { once: true }),
    );
    try {
      const execution = policy.execute(
        async ({ signal }) => {
          started = true;
          let response: Response;
          try {
            response = await fetch(new URL(pathname, options.baseUrl), {
              method,
              headers: {
                accept: 'application/json',
                ...(body === undefined ? {} : { 'content-type': 'application/json' }),
                ...(idempotencyKey === undefined ? {} : { [idempotencyKeyHeader]: idempotencyKey }),
              },
              body: body === undefined ? undefined : JSON.stringify(body),
              signal,
            });
          } catch (error) {
            if (signal.aborted) throw error; // the timeout policy turns this into TaskCancelledError
            throw new GatewayUnavailable(
              `Payment gateway unreachable at ${options.baseUrl}: ${describeFetchError(error)}`,
              'unreachable',
            );
          }
          const text = await response.text();
          if (response.ok) return { status: response.status, body: schema.parse(JSON.parse(text)) };
          const problem = parseProblem(response.status, text);
          if (response.status === 503 && problem.type === issuerUnavailableProblemType) {
            throw new GatewayUnavailable(`Card issuer unavailable: ${problem.detail}`, 'issuer-unavailable');
          }
          if (response.status >= 500) {
            throw new GatewayUnavailable(
              `Payment gateway answered ${response.status}: ${problem.detail}`,
              'server-error',
            );
          }
          if (response.status === 409) {
            // The same Idempotency-Key is still being processed (an earlier attempt of ours): ask again later.
            throw new GatewayUnavailable(
              `Payment gateway is still processing this request: ${problem.detail}`,
              'key-in-use',
            );
          }
          throw new GatewayRefusal(problem);
        },
        AbortSignal.any([queueWait.signal, outOfTime.signal]),
      );
      execution.catch(() => undefined); // settled later if the wait or the deadline ran out first
      return await Promise.race([execution, gaveUp, deadlineReached]);
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        // Half-open lets one trial call through; the others are refused again, so at least a second apart.
        const retryAfterMs = Math.max(options.halfOpenAfterMs - (Date.now() - openedAt), 1_000);
        throw new GatewayUnavailable(
          `Payment gateway circuit open: not calling it for the next ${retryAfterMs} ms`,
          'circuit-open',
          retryAfterMs,
        );
      }
      if (error instanceof BulkheadRejectedError) {
        throw new GatewayUnavailable(
          `Payment gateway bulkhead full (${options.maxConcurrentCalls} calls in flight, ${options.maxQueuedCalls} queued)`,
          'bulkhead-full',
        );
      }
      if (error instanceof QueueWaitExpired) {
        throw new GatewayUnavailable(
          `No free payment gateway slot within ${options.maxQueueWaitMs} ms (${options.maxConcurrentCalls} calls in flight)`,
          'bulkhead-full',
        );
      }
      if (error instanceof TaskCancelledError) {
        throw new GatewayUnavailable(`Payment gateway did not answer within ${options.callTimeoutMs} ms`, 'timeout');
      }
      if (error instanceof DeadlineReached) {
        throw new GatewayUnavailable(
          `Payment gateway call not over within the ${timeLeftMs} ms left before the caller's deadline`,
          'timeout',
        );
      }
      throw error;
    } finally {
      clearTimeout(queueTimer);
      clearTimeout(deadlineTimer);
    }
  }

  return {
    /**
     * Charges once per `idempotencyKey`: a repeat (after a timeout, a crash, a
     * retry) gets the gateway's stored answer, never a second charge.
     */
    async charge(idempotencyKey: string, charge: ChargeRequest, call: GatewayCallOptions = {}): Promise<ChargeOutcome> {
      try {
        const { body } = await request('POST', gatewayPaths.charges, chargeSchema, {
          ...call,
          body: charge,
          idempotencyKey,
        });
        return { charged: body };
      } catch (error) {
        if (error instanceof GatewayRefusal && error.problem.status === 402 && error.problem.charge) {
          return { declined: error.problem.charge };
        }
        throw error;
      }
    },

    /** Refunds a charge in full, once per `idempotencyKey`. */
    async refund(idempotencyKey: string, chargeId: string, call: GatewayCallOptions = {}): Promise<Refund> {
      const { body } = await request('POST', gatewayPaths.refunds, refundSchema, {
        ...call,
        body: { chargeId },
        idempotencyKey,
      });
      return body;
    },

    /** The charges the gateway holds for an order (made, declined or refunded), newest first. */
    async chargesOfOrder(orderId: string, call: GatewayCallOptions = {}): Promise<Charge[]> {
      const { body } = await request(
        'GET',
        `${gatewayPaths.charges}?orderId=${encodeURIComponent(orderId)}`,
        chargeListSchema,
        call,
      );
      return body.charges;
    },

    status(): GatewayClientStatus {
      return {
        breaker: breakerStates[breaker.state],
        breakerTransitions: { ...transitions },
        callsInFlight: options.maxConcurrentCalls - slots.executionSlots,
        queuedCalls: options.maxQueuedCalls - slots.queueSlots,
      };
    },
  };
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;
