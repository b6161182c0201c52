import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** The service that made a span: its resource's `service.name`. */
export function serviceOf(span: ReadableSpan): string {
  const name = span.resource.attributes[ATTR_SERVICE_NAME];
  return typeof name === 'string' ? name : 'unknown';
}

/**
 * One trace as an indented tree, a line per span: name, service, duration; children in the order they started.
 * A span whose parent is not among `spans` (not exported yet, or another process's) is shown as a root.
 */
export function formatSpanTree(spans: readonly ReadableSpan[]): string {
  const ids = new Set(spans.map((span) => span.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanId !== undefined && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const started = (a: ReadableSpan, b: ReadableSpan) =>
    hrTimeToMilliseconds(a.startTime) - hrTimeToMilliseconds(b.startTime);
  const lines: string[] = [];
  const visit = (span: ReadableSpan, depth: number) => {
    const duration = hrTimeToMilliseconds(span.duration).toFixed(1);
    lines.push(`${'  '.repeat(depth)}${span.name}  [${serviceOf(span)}]  ${duration} ms`);
    for (const child of (children.get(span.spanContext().spanId) ?? []).sort(started)) visit(child, depth + 1);
  };
  for (const root of (children.get(undefined) ?? []).sort(started)) visit(root, 0);
  return lines.join('\n');
}
