/**
 * How far behind the read model is: the age of the oldest event that a
 * service has committed to its outbox and the relay has not yet delivered to
 * the projection (status PENDING). Zero when every outbox is drained, however
 * long nothing has happened (unlike "newest event applied vs now", which
 * grows on a quiet shop). The relay marks a row DELIVERED only after the
 * projection committed it, so a PENDING row is exactly an event the views may
 * not show yet. PARKED rows (dead letters) are counted apart: they wait for an
 * operator, not for time, and hold back later events of their aggregate.
 *
 * `lagMs` is the number to report (GET /health); the rest says where it comes
 * from.
 */
import { outboxStatus } from '../events/relay-admin';
import type { OutboxTable } from '../events/relay-store';
import { serviceNames, type ServiceName } from '../temporal/names';

export interface ServiceLag {
  pendingEvents: number;
  parkedEvents: number;
  /** occurredAt of the oldest PENDING event, ISO 8601; null when none waits. */
  oldestPendingAt: string | null;
}

export interface ProjectionLag {
  /** now - the oldest pending event's occurredAt, over all services, in ms; 0 when none is pending. */
  lagMs: number;
  pendingEvents: number;
  parkedEvents: number;
  byService: Record<ServiceName, ServiceLag>;
}

export async function measureProjectionLag(
  outboxes: Record<ServiceName, OutboxTable>,
  now: Date = new Date(),
): Promise<ProjectionLag> {
  const reports = await Promise.all(serviceNames.map((service) => outboxStatus(outboxes[service])));
  const byService = Object.fromEntries(
    serviceNames.map((service, index) => {
      const report = reports[index]!;
      const lag: ServiceLag = {
        pendingEvents: report.counts.PENDING,
        parkedEvents: report.counts.PARKED,
        oldestPendingAt: report.oldestPendingOccurredAt?.toISOString() ?? null,
      };
      return [service, lag];
    }),
  ) as Record<ServiceName, ServiceLag>;
  const oldest = Math.min(...reports.map((report) => report.oldestPendingOccurredAt?.getTime() ?? Infinity));
  return {
    lagMs: Number.isFinite(oldest) ? Math.max(0, now.getTime() - oldest) : 0,
    pendingEvents: reports.reduce((sum, report) => sum + report.counts.PENDING, 0),
    parkedEvents: reports.reduce((sum, report) => sum + report.counts.PARKED, 0),
    byService,
  };
}
