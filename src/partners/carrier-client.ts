import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  timeout,
  wrap,
} from 'cockatiel';
import type { ShippingRate } from '../domain/shipping-rate';
import { carrierPaths, rateQuoteSchema, type RateRequest } from './contract';
import { breakerStates, describeFetchError, parseProblem, PartnerRefusal, type BreakerState } from './responses';

/**
 * The shipping service's side of the carrier: a rate quote for a parcel,
 * with a fallback. A quote only prices the parcel, so when the carrier is
 * slow or down the shipment goes ahead at a flat rate, recorded as such;
 * what the carrier decides (it does not deliver there) is never replaced by
 * the fallback.
 *
 * Policies from cockatiel, outermost first: a circuit breaker (after a few
 * failures in a row, quotes go straight to the flat rate for a while instead
 * of each waiting out the timeout) and a timeout per call.
 */

export interface CarrierClientOptions {
  baseUrl: string;
  quoteTimeoutMs: number;
  flatRateCents: number;
  breakAfterFailures: number;
  halfOpenAfterMs: number;
}

export const defaultCarrierClientOptions: Omit<CarrierClientOptions, 'baseUrl'> = {
  quoteTimeoutMs: 2_000,
  flatRateCents: 1_299,
  breakAfterFailures: 3,
  halfOpenAfterMs: 10_000,
};

/** The carrier could not be asked (down, slow, 5xx, breaker open): the flat rate applies. */
class CarrierUnavailable extends Error {
  override name = 'CarrierUnavailable';
}

/** The carrier answered with a decision (422 undeliverable): no fallback may replace it. */
export class CarrierRefusal extends PartnerRefusal {
  override name = 'CarrierRefusal';
}

export interface CarrierClientStatus {
  breaker: BreakerState;
  quotes: number;
  flatRates: number;
}

export function createCarrierClient(options: CarrierClientOptions) {
  const unavailable = handleWhen((error) => error instanceof CarrierUnavailable || error instanceof TaskCancelledError);
  const breaker = circuitBreaker(unavailable, {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakAfterFailures),
  });
  const policy = wrap(breaker, timeout(options.quoteTimeoutMs, TimeoutStrategy.Aggressive));
  const counts = { quotes: 0, flatRates: 0 };

  async function askCarrier(request: RateRequest): Promise<ShippingRate> {
    const url = new URL(carrierPaths.rates, options.baseUrl);
    url.search = new URLSearchParams({
      postalCode: request.postalCode,
      country: request.country,
      itemCount: String(request.itemCount),
    }).toString();
    return policy.execute(async ({ signal }) => {
      let response: Response;
      try {
        response = await fetch(url, { headers: { accept: 'application/json' }, signal });
      } catch (error) {
        if (signal.aborted) throw error; // the timeout policy turns this into TaskCancelledError
        throw new CarrierUnavailable(`carrier unreachable (${describeFetchError(error)})`);
      }
      const text = await response.text();
      if (response.ok) {
        const quote = rateQuoteSchema.parse(JSON.parse(text));
        return {
          source: 'carrier-quote',
          amountCents: quote.amountCents,
          quoteId: quote.quoteId,
          service: quote.service,
        };
      }
      const problem = parseProblem(response.status, text);
      if (response.status >= 500) throw new CarrierUnavailable(`carrier answered ${response.status}`);
      // A 4xx is a decision about this parcel (422), or a request of ours it cannot read (400): never priced over.
      throw new CarrierRefusal(problem);
    });
  }

  return {
    /** The carrier's quote, or the flat rate when the carrier cannot answer; throws {@link CarrierRefusal}. */
    async quote(request: RateRequest): Promise<ShippingRate> {
      try {
        const rate = await askCarrier(request);
        counts.quotes += 1;
        return rate;
      } catch (error) {
        let reason: string;
        if (error instanceof CarrierUnavailable) reason = error.message;
        else if (error instanceof TaskCancelledError) reason = `no quote within ${options.quoteTimeoutMs} ms`;
        else if (error instanceof BrokenCircuitError) reason = 'carrier circuit open';
        else throw error;
        counts.flatRates += 1;
        return { source: 'flat-rate', amountCents: options.flatRateCents, reason };
      }
    },

    status(): CarrierClientStatus {
      return { breaker: breakerStates[breaker.state], ...counts };
    },
  };
}

export type CarrierClient = ReturnType<typeof createCarrierClient>;
