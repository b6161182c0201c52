import {
  Runtime,
  makeTelemetryFilterString,
  type LogLevel,
  type LogMetadata,
  type Logger as TemporalLogger,
  type TelemetryOptions,
} from '@temporalio/worker';
import type { Level, Logger } from 'pino';
import { withoutLogContext } from '../logger';
import { runtimeMetricsConfig, runtimeMetricsUrl, type RuntimeMetricsExporter } from '../metrics/runtime-exporter';

export interface WorkerRuntimeOptions {
  /**
   * Where the SDK's lines go: the worker's own (Core's, forwarded), workflow code's (`log` from
   * @temporalio/workflow, sent once: not again on replay) and activity code's (`log` from @temporalio/activity).
   * Their attributes (workflowId, runId, activityType, taskQueue…) become fields; the logger's level filters them.
   */
  logger: Logger;
  /**
   * Where Core's Prometheus exporter listens (loopback), for the status page's `GET /metrics` to merge; omitted,
   * the runtime exports no metrics.
   */
  metrics?: RuntimeMetricsExporter;
}

const pinoLevels: Record<LogLevel, Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Core's own lines below WARN are its internals (polls, activations); only warnings and errors are handed over. */
function coreLevel(logger: Logger): LogLevel {
  return logger.isLevelEnabled('warn') ? 'WARN' : 'ERROR';
}

/** The SDK's Logger interface onto pino: level mapped, meta as fields (symbol keys, e.g. the timestamp, dropped). */
export function temporalLoggerFor(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    const pinoLevel = pinoLevels[level];
    if (!logger.isLevelEnabled(pinoLevel)) return;
    // The SDK's meta already names the run (and, with the log-context interceptors, the order and the request);
    // the forwarding runs on the SDK's timer, whose async context belongs to no one.
    withoutLogContext(() => (meta === undefined ? logger[pinoLevel](message) : logger[pinoLevel](meta, message)));
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

let installed: Runtime | undefined;

/**
 * Installs the process-wide Temporal Runtime, once, before any worker or connection exists (the SDK would otherwise
 * make a default one that logs plain text to stderr). Every worker of the process shares it.
 */
export function installWorkerRuntime({ logger, metrics }: WorkerRuntimeOptions): Runtime {
  if (installed) throw new Error('The Temporal Runtime is already installed in this process');
  const telemetryOptions: TelemetryOptions = {
    logging: { filter: makeTelemetryFilterString({ core: coreLevel(logger), other: 'ERROR' }), forward: {} },
    ...(metrics ? { metrics: runtimeMetricsConfig(metrics) } : {}),
  };
  installed = Runtime.install({ logger: temporalLoggerFor(logger), telemetryOptions });
  installedMetricsUrl = metrics ? runtimeMetricsUrl(metrics) : undefined;
  return installed;
}

let installedMetricsUrl: string | undefined;

/** Where the installed runtime's Core exporter answers (`GET /metrics`), if it was installed with `metrics`. */
export function workerRuntimeMetricsUrl(): string | undefined {
  return installedMetricsUrl;
}

/** Whether installWorkerRuntime has run in this process (tests install a quiet one unless a test brought its own). */
export function workerRuntimeInstalled(): boolean {
  return installed !== undefined;
}
