import path from 'node:path';

/** Whether .dockerignore keeps `relativePath` out of the build context (last matching pattern wins, `!` re-includes). */
export function isDockerignored(dockerignore: string, relativePath: string): boolean {
  const segments = relativePath.replace(/^\.\//, '').replace(/\/$/, '').split('/');
  // A pattern matches a path or any of its parent directories.
  const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
  let ignored = false;
  for (const rawLine of dockerignore.split(/\r?\n/)) {
    let pattern = rawLine.trim();
    if (pattern === '' || pattern.startsWith('#')) continue;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1).trim();
    const matcher = patternToRegExp(path.posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/$/, ''));
    if (candidates.some((candidate) => matcher.test(candidate))) ignored = !negated;
  }
  return ignored;
}

function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] ?? '';
    if (char === '*' && pattern[index + 1] === '*') {
      // `**/` matches any number of directories, including none.
      source += pattern[index + 2] === '/' ? '(?:.*/)?' : '.*';
      index += pattern[index + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
