import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import pino, { type Logger } from 'pino';
import { undeliverablePostalCode } from '../../src/domain/failure-triggers';
import {
  carrierName,
  carrierPaths,
  rateRequestSchema,
  type RateQuote,
  type RateRequest,
} from '../../src/partners/contract';
import { partnerFrontDoor, type FaultSwitch } from '../faults';
import { describeIssues, invalidRequest, notFoundRoute, PartnerError, problemHandler } from '../problem';

/** The tariff: a base price per parcel plus a price per item, and a surcharge outside the home country. */
export const tariff = {
  service: 'ground',
  currency: 'USD',
  homeCountry: 'US',
  baseCents: 499,
  perItemCents: 150,
  internationalSurcharge: 0.3,
} as const;

/** The price of a parcel: the same request always gets the same price. */
export function rateCents({ country, itemCount }: Pick<RateRequest, 'country' | 'itemCount'>): number {
  const domestic = tariff.baseCents + tariff.perItemCents * itemCount;
  return country === tariff.homeCountry ? domestic : Math.round(domestic * (1 + tariff.internationalSurcharge));
}

/** A query string holds text: itemCount becomes a number only when it is written as digits, so `1e3` or ` 2` stay invalid. */
function coerceQuery(query: unknown): unknown {
  if (typeof query !== 'object' || query === null) return query;
  const { itemCount, ...rest } = query as Record<string, unknown>;
  if (itemCount === undefined) return rest;
  return {
    ...rest,
    itemCount: typeof itemCount === 'string' && /^\d{1,9}$/.test(itemCount) ? Number(itemCount) : itemCount,
  };
}

/** The shipping carrier: rate quotes. simulators/carrier/main.ts makes it listen. */
export function createCarrierApp(faults: FaultSwitch, logger: Logger = pino({ level: 'silent' })): express.Express {
  const routes = Router();
  routes.get(carrierPaths.rates, (request, response) => {
    const parsed = rateRequestSchema.safeParse(coerceQuery(request.query));
    if (!parsed.success) throw invalidRequest(describeIssues(parsed.error, 'query'));
    if (parsed.data.postalCode === undeliverablePostalCode) {
      throw new PartnerError(
        422,
        'undeliverable',
        'Undeliverable',
        `The carrier does not deliver to postal code ${parsed.data.postalCode}`,
      );
    }
    const quote: RateQuote = {
      quoteId: `qt_${randomUUID().replaceAll('-', '')}`,
      carrier: carrierName,
      service: tariff.service,
      amountCents: rateCents(parsed.data),
      currency: tariff.currency,
    };
    response.json(quote);
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(partnerFrontDoor(faults, carrierPaths));
  app.use(routes);
  app.use(notFoundRoute);
  app.use(problemHandler(logger));
  return app;
}
