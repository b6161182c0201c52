import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * What a line is about: the request being answered, the order and its run. Set once where it becomes known (the
 * API's request middleware, the activity interceptor), it lands on every line logged while that work goes on,
 * however deep the call that logs.
 */
export interface LogContext {
  requestId?: string;
  orderId?: string;
  workflowId?: string;
  runId?: string;
}

const logContexts = new AsyncLocalStorage<LogContext>();

/** Runs `work` with `context` (on top of the current one) on every line it logs. */
export function withLogContext<T>(context: LogContext, work: () => T): T {
  const current = logContexts.getStore();
  return logContexts.run(current ? { ...current, ...context } : context, work);
}

/** Adds what just became known (e.g. the order a request is about) to the current context's later lines. */
export function addToLogContext(context: LogContext): void {
  const current = logContexts.getStore();
  if (current) Object.assign(current, context);
}

/** Runs `work` outside any context: for lines that carry their own ids (the Temporal SDK's). */
export function withoutLogContext<T>(work: () => T): T {
  return logContexts.exit(work);
}

/** The context's fields, but none the logger already binds: a field appears once per line. */
function contextFields(logger: Logger): LogContext {
  const context = logContexts.getStore();
  if (!context) return {};
  const bound = logger.bindings();
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(context)) {
    if (value !== undefined && !(key in bound)) fields[key] = value as string;
  }
  return fields;
}

/**
 * Structured JSON logs; each process names itself so interleaved output stays readable. `destination` is for tests,
 * which read the lines back.
 */
export function createLogger(name: string, level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    mixin: (_line, _level, logger) => contextFields(logger),
    // The Temporal SDK passes errors as `error`; pino only knows how to write `err` unless told.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination) : pino(options);
}
