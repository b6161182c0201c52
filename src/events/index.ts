/**
 * Domain events and each service's transactional outbox: the envelope
 * (envelope.ts), the catalogue of event types and payload schemas
 * (catalogue.ts), upcasting of older payloads (upcast.ts), and writing and
 * reading outbox rows (outbox.ts), and the relay that delivers them
 * (relay.ts, relay-claim.ts), woken by the commits that wrote them
 * (outbox-commits.ts), with its operator commands (relay-admin.ts).
 */
export { activityCorrelation } from './correlation';
export {
  eventCatalogue,
  eventTypes,
  isEventType,
  type DomainEvent,
  type EventType,
  type PayloadInputOf,
  type PayloadOf,
} from './catalogue';
export { aggregateTypes, type AggregateType, type Correlation, type EventEnvelope } from './envelope';
export {
  appendEvent,
  readOutboxEvent,
  type EventOf,
  type NewEvent,
  type OutboxEventRow,
  type OutboxWriter,
} from './outbox';
export { wakeOnOutboxCommit } from './outbox-commits';
export { UnreadableEvent, upcastPayload } from './upcast';
export {
  defaultRelaySettings,
  OutboxRelay,
  retryDelayMs,
  systemClock,
  type DeliverEvents,
  type OutboxRelayOptions,
  type RelayClock,
  type RelayLogger,
  type RelayPass,
  type RetryBackoff,
} from './relay';
export {
  listParked,
  outboxStatus,
  redrive,
  type OutboxStatusReport,
  type ParkedEvent,
  type RedriveResult,
} from './relay-admin';
export { outboxStatuses, type OutboxStatus, type OutboxTable, type StoredOutboxRow } from './relay-store';
