/**
 * `npm run keys:new [-- <keyId>]`: prints a fresh PAYLOAD_ENCRYPTION_KEYS entry, `<keyId>:<base64 32 bytes>`.
 *
 * To start: PAYLOAD_ENCRYPTION_KEYS=<the entry>. To rotate: put the new entry first and keep the old ones after it,
 * in every process (API, workers, codec server, scripts), until the histories they encrypted are past retention.
 */
import { newKeyEntry } from '../src/temporal/encryption-keys';

const [id, ...rest] = process.argv.slice(2);
if (rest.length > 0 || id === '--help' || id === '-h') {
  console.error('Usage: npm run keys:new [-- <keyId>]   (a key id is 1-64 of A-Z a-z 0-9 . _ -)');
  process.exit(id === '--help' || id === '-h' ? 0 : 2);
}
try {
  // stdout carries the entry alone, so `PAYLOAD_ENCRYPTION_KEYS=$(npm run -s keys:new)` works.
  console.log(newKeyEntry(id));
  console.error(
    'Set PAYLOAD_ENCRYPTION_KEYS to it (first = current key); keep it secret, keep it as long as its data.',
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
