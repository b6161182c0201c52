/**
 * A setting missing or invalid at start-up; the message names the variable and what it expects. A module of its own
 * so that what config.ts builds on (the Temporal connection, the payload codec) can throw it without importing config.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
