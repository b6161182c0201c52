import { createHash, randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import express, { Router, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import {
  chargeRequestSchema,
  flakyChargeFailures,
  issuerUnavailableProblemType,
  gatewayPaths,
  gatewayTestTokens,
  idempotencyKeyHeader,
  idempotentReplayedHeader,
  refundRequestSchema,
  slowAfterChargeMs,
  type Charge,
  type ChargeRequest,
  type Refund,
} from '../../src/partners/contract';
import { problemContentType } from '../../src/http/problem';
import { partnerFrontDoor, waitUnlessCallerLeaves, type FaultSwitch } from '../faults';
import {
  describeIssues,
  invalidRequest,
  notFound,
  notFoundRoute,
  PartnerError,
  problemHandler,
  requireJsonBody,
} from '../problem';
import type { GatewayStore, StoredAnswer } from './store';

/** Charge and refund requests are a few fields; anything larger is a mistake. */
const bodyLimit = '16kb';

/** The newest charges `GET /v1/charges` lists without an orderId. */
const chargeListLimit = 1000;

const idempotencyKeySchema = z
  .string({ error: `the ${idempotencyKeyHeader} header is required` })
  .min(1)
  .max(255)
  .regex(/^[\x20-\x7e]+$/, 'printable ASCII only');

const chargeListQuerySchema = z.object({ orderId: z.string().min(1).max(100).optional() }).strict();

/**
 * How long the card network takes to answer a charge or a refund. Short, but
 * not zero: requests racing under one key meet it in progress (409), and
 * refunds of one charge racing under different keys meet the unique
 * constraint, as they would at a real processor.
 */
const cardNetworkMs = 5;

/** What the card network says when it declines (the gateway's only reason). */
const declineReason = 'generic_decline';

/** A handled request: its answer, already stored under the key, and how long to hold it back the first time. */
interface Handled {
  answer: StoredAnswer;
  holdFirstAnswerMs?: number;
}

function jsonAnswer(status: number, body: unknown): StoredAnswer {
  return { status, body: JSON.stringify(body) };
}

function problemAnswer(problem: PartnerError): StoredAnswer {
  return jsonAnswer(problem.status, problem.toProblem());
}

function sendAnswer(response: Response, answer: StoredAnswer): void {
  response
    .status(answer.status)
    .type(answer.status >= 400 ? problemContentType : 'application/json')
    .send(answer.body);
}

/** JSON with object keys sorted, so the same request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

function idempotencyKeyOf(request: Request): string {
  const parsed = idempotencyKeySchema.safeParse(request.get(idempotencyKeyHeader));
  if (!parsed.success) throw invalidRequest(describeIssues(parsed.error, idempotencyKeyHeader));
  return parsed.data;
}

function parse<T extends z.ZodType>(schema: T, input: unknown, subject: 'body' | 'query'): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw invalidRequest(describeIssues(parsed.error, subject));
  return parsed.data;
}

/** The key's stored answer is gone (past its retention), but what it did stays: charges and refunds keep their key. */
function expiredKeyReused(what: 'charge' | 'refund'): PartnerError {
  return new PartnerError(
    422,
    'idempotency_key_reused',
    'Idempotency key reused',
    `A ${what} was made with this Idempotency-Key before its answer expired; use a new key`,
  );
}

function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

/**
 * The payment gateway: charges and full refunds behind Idempotency-Keys, in
 * the manner of a card processor. simulators/gateway/main.ts makes it listen.
 */
export function createGatewayApp(
  store: GatewayStore,
  faults: FaultSwitch,
  logger: Logger = pino({ level: 'silent' }),
): express.Express {
  /**
   * Runs a POST once per key: the first request under a key is handled and
   * its answer stored with its effect; a repeat gets that answer replayed, or
   * 409 while the first is still being handled, or 422 with another body. A
   * request that fails having done nothing (a 503) keeps no answer, so its
   * retry is handled afresh.
   */
  async function idempotently(
    request: Request,
    response: Response,
    route: string,
    body: unknown,
    handle: (key: string) => Promise<Handled>,
  ): Promise<void> {
    const key = idempotencyKeyOf(request);
    const claim = await store.claimKey(key, requestFingerprint(request.method, route, body), Date.now());
    switch (claim.outcome) {
      case 'in_progress':
        throw new PartnerError(
          409,
          'idempotency_key_in_use',
          'Idempotency key in use',
          'A request with this Idempotency-Key is still being processed; retry shortly',
        );
      case 'reused':
        throw new PartnerError(
          422,
          'idempotency_key_reused',
          'Idempotency key reused',
          'This Idempotency-Key was used with another request; use a new key for a new request',
        );
      case 'replay':
        response.set(idempotentReplayedHeader, 'true');
        sendAnswer(response, claim.answer);
        return;
      case 'claimed':
        break;
    }
    let handled: Handled;
    try {
      handled = await handle(key);
    } catch (error) {
      await store.releaseKey(key);
      throw error;
    }
    if (!(await waitUnlessCallerLeaves(handled.holdFirstAnswerMs ?? 0, response))) return;
    sendAnswer(response, handled.answer);
  }

  async function refuse(key: string, problem: PartnerError): Promise<Handled> {
    const answer = problemAnswer(problem);
    await store.storeAnswer(key, answer);
    return { answer };
  }

  async function charge(key: string, request: ChargeRequest): Promise<Handled> {
    await setTimeout(cardNetworkMs);
    if (request.token === gatewayTestTokens.flaky && (await store.flakyFailures(key)) < flakyChargeFailures) {
      await store.recordFlakyFailure(key, Date.now());
      throw new PartnerError(
        503,
        issuerUnavailableProblemType,
        'Card issuer unavailable',
        'The card network did not answer: nothing was charged, try again',
      );
    }
    const declined = request.token === gatewayTestTokens.declined;
    const charge: Charge = {
      id: newId('ch'),
      status: declined ? 'declined' : 'succeeded',
      amountCents: request.amountCents,
      currency: request.currency,
      orderId: request.orderId,
      declineReason: declined ? declineReason : null,
      refundedCents: 0,
      createdAt: new Date().toISOString(),
    };
    const answer = declined
      ? problemAnswer(
          new PartnerError(402, 'card_declined', 'Card declined', `The card was declined (${declineReason})`, charge),
        )
      : jsonAnswer(201, charge);
    const outcome = await store.commitCharge({ charge, token: request.token, idempotencyKey: key }, answer);
    if (outcome === 'duplicate') return refuse(key, expiredKeyReused('charge'));
    const slow = request.token === gatewayTestTokens.timeoutAfterCharge;
    return { answer, holdFirstAnswerMs: slow ? slowAfterChargeMs : 0 };
  }

  async function refund(key: string, chargeId: string): Promise<Handled> {
    const found = await store.findCharge(chargeId);
    if (!found) return refuse(key, notFound(`No charge ${chargeId}`));
    const alreadyRefunded = () =>
      new PartnerError(422, 'charge_already_refunded', 'Charge already refunded', `Charge ${chargeId} was refunded`);
    if (found.charge.status !== 'succeeded') {
      return refuse(
        key,
        new PartnerError(
          422,
          'charge_not_refundable',
          'Charge not refundable',
          `Charge ${chargeId} was ${found.charge.status}: there is nothing to refund`,
        ),
      );
    }
    if (found.charge.refundedCents > 0) return refuse(key, alreadyRefunded());
    if (found.token === gatewayTestTokens.refundRejected) {
      // Not stored under the key (thrown, so the key is released): the issuer's refusal is not a result of
      // this request that must be replayed, and an operator's retry with the same key must reach the issuer again.
      throw new PartnerError(422, 'refund_rejected', 'Refund rejected', 'The card issuer rejected the refund');
    }
    await setTimeout(cardNetworkMs);
    const refund: Refund = {
      id: newId('re'),
      chargeId,
      amountCents: found.charge.amountCents,
      createdAt: new Date().toISOString(),
    };
    const answer = jsonAnswer(201, refund);
    switch (await store.commitRefund(refund, key, answer)) {
      case 'committed':
        return { answer };
      case 'already_refunded':
        return refuse(key, alreadyRefunded());
      case 'duplicate':
        return refuse(key, expiredKeyReused('refund'));
    }
  }

  const routes = Router();

  routes.post(gatewayPaths.charges, requireJsonBody, async (request, response) => {
    const chargeRequest = parse(chargeRequestSchema, request.body, 'body');
    await idempotently(request, response, gatewayPaths.charges, chargeRequest, (key) => charge(key, chargeRequest));
  });

  routes.post(gatewayPaths.refunds, requireJsonBody, async (request, response) => {
    const refundRequest = parse(refundRequestSchema, request.body, 'body');
    await idempotently(request, response, gatewayPaths.refunds, refundRequest, (key) =>
      refund(key, refundRequest.chargeId),
    );
  });

  routes.get(`${gatewayPaths.charges}/:chargeId`, async (request, response) => {
    const { chargeId } = request.params;
    const found = await store.findCharge(chargeId);
    if (!found) throw notFound(`No charge ${chargeId}`);
    response.json(found.charge);
  });

  routes.get(gatewayPaths.charges, async (request, response) => {
    const { orderId } = parse(chargeListQuerySchema, request.query, 'query');
    response.json({ charges: await store.listCharges({ orderId, limit: chargeListLimit }) });
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(partnerFrontDoor(faults, gatewayPaths));
  app.use(express.json({ limit: bodyLimit, strict: true }));
  app.use(routes);
  app.use(notFoundRoute);
  app.use(problemHandler(logger));
  return app;
}
