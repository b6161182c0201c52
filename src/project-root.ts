import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder (this file is src/project-root.ts), so paths work from any working directory. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
