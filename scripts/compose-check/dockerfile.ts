export const dockerfileName = 'Dockerfile';

export interface DockerInstruction {
  keyword: string;
  /** The text after the keyword, continuation lines joined. */
  text: string;
  line: number;
  /** Index of the build stage (FROM) it belongs to; -1 before the first FROM. */
  stage: number;
}

export interface Dockerfile {
  instructions: DockerInstruction[];
  stages: { name: string | undefined; image: string }[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: DockerInstruction[] = [];
  const stages: Dockerfile['stages'] = [];
  let pending: { text: string; line: number } | undefined;
  /** ARGs declared before the first FROM, which FROM lines may use. */
  const globalArgs = new Map<string, string>();
  const finish = (full: string, line: number) => {
    const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(full);
    if (!match) return;
    const keyword = (match[1] ?? '').toUpperCase();
    const rest = (match[2] ?? '').trim();
    if (keyword === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=', 2);
      globalArgs.set(name.trim(), value.trim().replace(/^(["'])(.*)\1$/, '$2'));
    }
    if (keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest);
      const image = (from?.[1] ?? '').replace(
        /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
        (reference, name: string) => globalArgs.get(name) ?? reference,
      );
      stages.push({ image, name: from?.[2] });
    }
    instructions.push({ keyword, text: rest, line, stage: stages.length - 1 });
  };
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment and blank lines are dropped, also inside a continued instruction (as Docker does).
    if (trimmed.startsWith('#') || trimmed === '') return;
    const continued = /\\\s*$/.test(raw);
    const content = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (pending) pending.text += ` ${content.trim()}`;
    else pending = { text: content, line: index + 1 };
    if (!continued) {
      finish(pending.text, pending.line);
      pending = undefined;
    }
  });
  if (pending) finish(pending.text, pending.line);
  return { instructions, stages };
}

/** Exec form (a JSON array) or shell form, as argv. Shell form is split on whitespace, honouring quotes. */
export function parseArgv(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed;
    } catch {
      // Not valid JSON: Docker runs it in a shell, and so is it parsed here.
    }
  }
  return splitShellWords(trimmed);
}

export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] ?? '';
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && index + 1 < text.length) current += text[++index] ?? '';
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      if (char === '\\' && index + 1 < text.length) current += text[++index] ?? '';
      else current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** The final stage's instructions of one keyword (CMD, ENTRYPOINT, USER, ...). */
export function finalStage(dockerfile: Dockerfile, keyword: string): DockerInstruction[] {
  const last = dockerfile.stages.length - 1;
  return dockerfile.instructions.filter((instruction) => instruction.stage === last && instruction.keyword === keyword);
}

/** ENV of the final stage (`ENV A=1 B=2` and the legacy `ENV A 1`). */
export function dockerfileEnv(dockerfile: Dockerfile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { text } of finalStage(dockerfile, 'ENV')) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
      const [name = '', ...value] = text.split(/\s+/);
      env[name] = value.join(' ');
      continue;
    }
    for (const word of splitShellWords(text)) {
      const separator = word.indexOf('=');
      if (separator > 0) env[word.slice(0, separator)] = word.slice(separator + 1);
    }
  }
  return env;
}

/** Whether the final stage's last HEALTHCHECK is a real one (not NONE). */
export function imageHealthcheck(dockerfile: Dockerfile): boolean {
  const last = finalStage(dockerfile, 'HEALTHCHECK').at(-1);
  return last !== undefined && !/^NONE\b/i.test(last.text);
}

/** An image reference with a tag or a digest. */
export function isPinnedImage(image: string): boolean {
  return /:[^/]+$|@sha256:/.test(image);
}
