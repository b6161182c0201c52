/**
 * What every domain event carries, whichever service wrote it: the same
 * envelope around a payload whose shape the event catalogue defines.
 */

/** The aggregate each service records changes of; an event's aggregate id is that aggregate's id. */
export const aggregateTypes = ['Order', 'Reservation', 'Payment', 'Shipment'] as const;
export type AggregateType = (typeof aggregateTypes)[number];

/** Which order, and which saga run, caused the change: how a read model joins the four services' events. */
export interface Correlation {
  orderId: string;
  workflowId: string;
}

export interface EventEnvelope<Type extends string = string, Payload = unknown> {
  /** A ULID: unique, and sorts by creation time (monotonic within a process). */
  id: string;
  type: Type;
  /** The version of the payload's schema; an event read back is always at the catalogue's current version. */
  schemaVersion: number;
  aggregateType: AggregateType;
  aggregateId: string;
  /** 1 for the aggregate's first event, then 2, 3…: the order a consumer must apply them in. */
  aggregateVersion: number;
  correlation: Correlation;
  /** ISO 8601, UTC: the envelope is JSON as it stands, ready for a relay to publish. */
  occurredAt: string;
  payload: Payload;
}
