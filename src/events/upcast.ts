import type { z } from 'zod';
import { eventCatalogue, isEventType, type EventType, type PayloadOf } from './catalogue';
import type { AnyEventDefinition } from './define';

/**
 * A stored event this code cannot read: an unknown type, a schema version
 * newer than the catalogue's (written by newer code), or a payload that does
 * not match its version's schema. Retrying does not help; a relay parks it.
 */
export class UnreadableEvent extends Error {
  override name = 'UnreadableEvent';
}

function parseVersion(definition: AnyEventDefinition, type: string, version: number, payload: unknown): unknown {
  const schema = definition.versions[version - 1] as z.ZodType;
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    throw new UnreadableEvent(`${type} v${version}: the payload does not match its schema: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/**
 * A stored payload of `type` at `schemaVersion`, validated against that
 * version's schema and lifted one version at a time to the current one (each
 * step's result validated again), so that readers only ever see the current
 * shape. Stored rows are never rewritten: the upcast happens on every read.
 */
export function upcastPayload<T extends EventType>(type: T, schemaVersion: number, payload: unknown): PayloadOf<T>;
export function upcastPayload(type: string, schemaVersion: number, payload: unknown): unknown;
export function upcastPayload(type: string, schemaVersion: number, payload: unknown): unknown {
  if (!isEventType(type)) throw new UnreadableEvent(`Unknown event type ${JSON.stringify(type)}`);
  const definition: AnyEventDefinition = eventCatalogue[type];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > definition.schemaVersion) {
    throw new UnreadableEvent(
      `${type} has no schema version ${schemaVersion} (this code knows 1 to ${definition.schemaVersion})`,
    );
  }
  let current = parseVersion(definition, type, schemaVersion, payload);
  for (let version = schemaVersion; version < definition.schemaVersion; version += 1) {
    const lift = definition.upcasters[version - 1] as (payload: unknown) => unknown;
    current = parseVersion(definition, type, version + 1, lift(current));
  }
  return current;
}
