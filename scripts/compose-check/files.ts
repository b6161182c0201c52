import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/config';

/** Read access to the project's files, so tests can check edited copies in memory. */
export interface ProjectFiles {
  /** The text of a file (path relative to the project root), or undefined if there is none. */
  read(relativePath: string): string | undefined;
  /** Whether a file or directory exists. */
  exists(relativePath: string): boolean;
  /** The entries of a directory, or undefined if it is not one. */
  list(relativePath: string): string[] | undefined;
}

export function diskFiles(root: string = projectRoot): ProjectFiles {
  const resolve = (relativePath: string) => path.resolve(root, relativePath);
  return {
    read(relativePath) {
      const file = resolve(relativePath);
      return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
    },
    exists: (relativePath) => existsSync(resolve(relativePath)),
    list(relativePath) {
      const dir = resolve(relativePath);
      return existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir) : undefined;
    },
  };
}

/** `base` with some files replaced (a string) or deleted (null). */
export function overlayFiles(base: ProjectFiles, overrides: Record<string, string | null>): ProjectFiles {
  const key = (relativePath: string) => path.posix.normalize(relativePath.split(path.sep).join('/'));
  const changed = new Map(Object.entries(overrides).map(([file, text]) => [key(file), text]));
  return {
    read: (relativePath) => {
      const override = changed.get(key(relativePath));
      return override === undefined ? base.read(relativePath) : (override ?? undefined);
    },
    exists: (relativePath) => {
      const override = changed.get(key(relativePath));
      return override === undefined ? base.exists(relativePath) : override !== null;
    },
    list: (relativePath) => base.list(relativePath),
  };
}
