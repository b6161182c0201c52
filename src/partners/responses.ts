import { CircuitState } from 'cockatiel';
import { partnerProblemSchema, type PartnerProblem } from './contract';

/** A circuit breaker's state as the workers' status pages show it. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export const breakerStates: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** A partner answered with a decision about the request (a 4xx): retrying will not change it. */
export class PartnerRefusal extends Error {
  constructor(readonly problem: PartnerProblem) {
    super(`${problem.title}: ${problem.detail}`);
  }
}

/** A partner's error answer as problem+json, whatever it actually sent (a proxy's HTML page, say). */
export function parseProblem(status: number, text: string): PartnerProblem {
  try {
    const parsed = partnerProblemSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // Not JSON: described below.
  }
  return { type: 'unexpected_response', title: `HTTP ${status}`, status, detail: text.slice(0, 200) || '(empty body)' };
}

/** A failed fetch with its cause (ECONNREFUSED and the like sit in `cause`). */
export function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
