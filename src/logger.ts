import pino, { type Logger } from 'pino';

/** Structured JSON logs; each process names itself so interleaved output stays readable. */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level });
}
