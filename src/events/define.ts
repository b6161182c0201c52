import type { z } from 'zod';
import type { AggregateType } from './envelope';

type Schemas = readonly [z.ZodType, ...z.ZodType[]];

/**
 * One function per step between consecutive schema versions: the first lifts
 * a version 1 payload to version 2, the next 2 to 3, and so on. The tuple's
 * length and each function's types follow from the versions, so a new
 * version without its upcaster does not compile.
 */
export type Upcasters<V extends readonly z.ZodType[]> = V extends readonly [
  infer From extends z.ZodType,
  infer To extends z.ZodType,
  ...infer Rest extends z.ZodType[],
]
  ? readonly [(payload: z.output<From>) => z.input<To>, ...Upcasters<readonly [To, ...Rest]>]
  : readonly [];

type Last<V extends Schemas> = V extends readonly [...z.ZodType[], infer L extends z.ZodType] ? L : never;

export interface EventDefinition<A extends AggregateType, V extends Schemas> {
  aggregateType: A;
  /** Payload schemas, oldest first: `versions[n - 1]` is version n. */
  versions: V;
  upcasters: Upcasters<V>;
  /** The version new events are written at: the last one. */
  schemaVersion: V['length'];
  /** The current version's schema. */
  payload: Last<V>;
}

/** What code that handles any event type relies on (the upcasting loop, the outbox writer). */
export interface AnyEventDefinition {
  aggregateType: AggregateType;
  versions: readonly z.ZodType[];
  upcasters: readonly ((payload: never) => unknown)[];
  schemaVersion: number;
  payload: z.ZodType;
}

export function defineEvent<A extends AggregateType, const V extends Schemas>(
  aggregateType: A,
  versions: V,
  upcasters: Upcasters<V>,
): EventDefinition<A, V> {
  return {
    aggregateType,
    versions,
    upcasters,
    schemaVersion: versions.length,
    payload: versions[versions.length - 1] as Last<V>,
  };
}
