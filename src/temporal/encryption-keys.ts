import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';

/**
 * The keys that encrypt payloads on their way to Temporal (see payload-codec.ts).
 *
 * `PAYLOAD_ENCRYPTION_KEYS` is a comma-separated list of `<keyId>:<base64 of 32 random bytes>`. The first entry is
 * the current key, which encrypts; every entry decrypts, so a key is rotated by putting a new one first and keeping
 * the old ones until no history that needs them is left (the namespace's retention).
 */

export const keyBytes = 32;
const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Key material that stays out of logs: JSON, util.inspect and pino see only the key ids, never the bytes
 * (the map is a private field).
 */
export class PayloadKeyring {
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(keys: ReadonlyArray<{ id: string; key: Buffer }>) {
    for (const { id, key } of keys) {
      if (!keyIdPattern.test(id)) throw new Error(`payload key id "${id}" must be 1-64 of A-Z a-z 0-9 . _ -`);
      if (key.length !== keyBytes) throw new Error(`payload key ${id} must be ${keyBytes} bytes`);
    }
    this.#keys = new Map(keys.map(({ id, key }) => [id, key]));
  }

  /** The key that encrypts: the first one configured. */
  get currentKeyId(): string | undefined {
    return this.#keys.keys().next().value;
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  get size(): number {
    return this.#keys.size;
  }

  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  toJSON(): { currentKeyId: string | undefined; keyIds: string[] } {
    return { currentKeyId: this.currentKeyId, keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `PayloadKeyring ${JSON.stringify(this.toJSON())}`;
  }
}

/** The `PAYLOAD_ENCRYPTION_KEYS` variable. Errors name the entry by position and id, never repeat key material. */
export const payloadEncryptionKeys = z
  .string()
  .default('')
  .transform((text, context): PayloadKeyring => {
    const keys: { id: string; key: Buffer }[] = [];
    for (const [index, raw] of text.split(',').entries()) {
      const entry = raw.trim();
      if (entry === '') continue;
      const separator = entry.indexOf(':');
      const id = entry.slice(0, Math.max(separator, 0));
      const material = entry.slice(separator + 1);
      const key = Buffer.from(material, 'base64');
      const problem =
        separator < 0 || !keyIdPattern.test(id)
          ? 'is not <keyId>:<base64 key> (a key id is 1-64 of A-Z a-z 0-9 . _ -)'
          : !base64Pattern.test(material) || key.length !== keyBytes
            ? `(${id}): the key must be ${keyBytes} random bytes in base64 (npm run keys:new makes one)`
            : keys.some((other) => other.id === id)
              ? `(${id}): the same key id is configured twice`
              : undefined;
      if (problem) {
        context.addIssue({ code: 'custom', message: `entry ${index + 1} ${problem}` });
        continue;
      }
      keys.push({ id, key });
    }
    return new PayloadKeyring(keys);
  });

/** A fresh `PAYLOAD_ENCRYPTION_KEYS` entry; the id says when it was made, so rotations read in order. */
export function newKeyEntry(
  id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`,
): string {
  if (!keyIdPattern.test(id)) throw new Error(`a key id is 1-64 of A-Z a-z 0-9 . _ - (got "${id}")`);
  return `${id}:${randomBytes(keyBytes).toString('base64')}`;
}

/**
 * `npm start`'s development keys: made once in `file` (readable by its owner only) and read back afterwards, so
 * the history written by one run is still readable by the next.
 */
export function developmentKeyEntries(file: string): { entries: string; created: boolean } {
  if (existsSync(file)) return { entries: readFileSync(file, 'utf8').trim(), created: false };
  mkdirSync(path.dirname(file), { recursive: true });
  const entries = newKeyEntry(`dev-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`);
  writeFileSync(file, `${entries}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { entries, created: true };
}
