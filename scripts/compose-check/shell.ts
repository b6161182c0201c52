/** Reading the shell scripts of one-shot jobs (`entrypoint: [/bin/sh, -c]` with a script as command). */
import type { Json } from './compose-file';
import { splitShellWords } from './dockerfile';
import { argvOf } from './services';

/** The text of a service's entrypoint and command, continuation lines joined (for searching a script in them). */
export function commandText(service: Json): string {
  return [...(argvOf(service.entrypoint) ?? []), ...(argvOf(service.command) ?? [])].join(' ').replace(/\\\n/g, ' ');
}

/**
 * Each simple command of a script that runs `program` (`temporal operator ...`, `temporal-sql-tool ...`): the words
 * after the program up to the end of that command (newline, `;`, `&&`, `||`, `|`), redirections left out.
 */
export function invocations(script: string, program: string[]): string[][] {
  const found: string[][] = [];
  for (const segment of script.split(/\n|;|&&|\|\||\|/)) {
    const words = withoutRedirections(splitShellWords(segment));
    const start = words.findIndex((_, index) => program.every((word, offset) => words[index + offset] === word));
    if (start !== -1) found.push(words.slice(start + program.length));
  }
  return found;
}

function withoutRedirections(words: string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index] ?? '';
    if (/^\d*(?:>>?|<)$/.test(word)) index++;
    else if (!/^\d*(?:>>?|<)&?\S+$/.test(word)) kept.push(word);
  }
  return kept;
}

/**
 * The value of an option in a command's words: `--name value` or `--name=value`, under any of its spellings;
 * undefined when absent.
 */
export function optionValue(words: string[], names: string[]): string | undefined {
  for (let index = 0; index < words.length; index++) {
    const word = words[index] ?? '';
    for (const name of names) {
      if (word === name) return words[index + 1];
      if (word.startsWith(`${name}=`)) return word.slice(name.length + 1);
    }
  }
  return undefined;
}
