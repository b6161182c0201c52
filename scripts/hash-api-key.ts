/**
 * Prints the SHA-256 of an API key, as API_KEYS wants it:
 *   npx tsx scripts/hash-api-key.ts <key>
 * Without a key, it makes a new random one and prints both.
 */
import { randomBytes } from 'node:crypto';
import { hashApiKey } from '../src/api/auth';

const given = process.argv[2];
const key = given ?? randomBytes(24).toString('base64url');
if (!given) console.log(`key:    ${key}`);
console.log(given ? hashApiKey(key) : `sha256: ${hashApiKey(key)}`);
console.log(`API_KEYS entry: <name>:<customer|operator>:${hashApiKey(key)}`);
