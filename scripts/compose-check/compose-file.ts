import { parseDocument } from 'yaml';

export const composeFileName = 'docker-compose.yml';

/** A YAML mapping, as parsed. */
export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Compose's variable interpolation with no variables set: `${VAR:-default}`
 * and `${VAR-default}` take the default, `${VAR:+x}` is empty, `$$` is a
 * literal `$`. Any other reference is reported: the check would not know the
 * value (and neither would a fresh checkout without a .env file).
 */
export function interpolate(text: string, where: string, problems: string[]): string {
  return text.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, body: string, braced?: string, operator?: string, operand?: string, bare?: string) => {
      if (body === '$') return '$';
      if (operator === '-' || operator === ':-') return operand ?? '';
      if (operator === '+' || operator === ':+') return '';
      problems.push(
        `${where}: \${${braced ?? bare}} has no default; the check (and a fresh checkout) cannot know its value. ` +
          'Give it one (${VAR:-value}), or write $$ for a literal $',
      );
      return '';
    },
  );
}

function interpolateAll(value: unknown, where: string, problems: string[]): unknown {
  if (typeof value === 'string') return interpolate(value, where, problems);
  if (Array.isArray(value)) return value.map((item, index) => interpolateAll(item, `${where}[${index}]`, problems));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateAll(item, `${where}.${key}`, problems)]),
    );
  }
  return value;
}

export interface ParsedCompose {
  compose: Json | undefined;
  problems: string[];
}

/** YAML (1.1 merge keys, as Compose resolves them) to a plain object, interpolated. */
export function parseCompose(text: string, fileName = composeFileName): ParsedCompose {
  const document = parseDocument(text, { merge: true, prettyErrors: true });
  const problems = [...document.errors, ...document.warnings].map((error) => `${fileName}: ${error.message}`);
  if (document.errors.length > 0) return { compose: undefined, problems };
  const value: unknown = document.toJS({ maxAliasCount: 1000 });
  if (!isRecord(value)) return { compose: undefined, problems: [...problems, `${fileName}: not a YAML mapping`] };
  const compose = interpolateAll(value, fileName, problems) as Json;
  return { compose, problems };
}
