/**
 * A small shell tokenizer for the command policy: it splits a shell string into the simple
 * commands it would run (words after quote removal), including those inside `$( )`, backticks,
 * `( )` subshells and `<( )`/`>( )`. Leading `NAME=value` assignments, redirections with their
 * targets, heredoc bodies, comments and reserved words are dropped. Variables and globs are not
 * expanded: `$X` stays as written. Pure.
 *
 * It errs towards finding more commands rather than fewer (a `case` label becomes a command),
 * since a spurious match can only refuse a command, never let one through.
 */

/** Nested substitutions deeper than this are not inspected (a guard, not a parser of record). */
const MAX_DEPTH = 16;

const RESERVED = new Set(['!', '{', '}', 'if', 'then', 'elif', 'else', 'fi', 'do', 'done', 'while', 'until', 'for', 'select', 'case', 'esac', 'in', 'function', '[[', ']]', 'coproc']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;
const FD_PREFIX = /^(\d+|\{[A-Za-z_][A-Za-z0-9_]*\})$/;
const REDIRECTIONS = ['<<<', '<<-', '&>>', '<<', '<>', '<&', '>&', '>>', '>|', '&>', '<', '>'];

interface Heredoc {
  delimiter: string;
  stripTabs: boolean;
}

/** Index of the `)` closing the group opened right before `start`, or `s.length` if none. */
function closingParen(s: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') i += 2;
    else if (c === "'") i = closing(s, i + 1, "'") + 1;
    else if (c === '"' || c === '`') i = closing(s, i + 1, c) + 1;
    else if (c === '(') depth++, i++;
    else if (c === ')' && --depth === 0) return i;
    else i++;
  }
  return s.length;
}

/** Index of the unescaped `quote` closing a string that starts at `start`, or `s.length` if none. */
function closing(s: string, start: number, quote: "'" | '"' | '`'): number {
  if (quote === "'") {
    const end = s.indexOf("'", start);
    return end === -1 ? s.length : end;
  }
  let i = start;
  while (i < s.length) {
    if (s[i] === '\\') i += 2;
    else if (quote === '"' && s.startsWith('$(', i)) i = closingParen(s, i + 2) + 1;
    else if (s[i] === quote) return i;
    else i++;
  }
  return s.length;
}

const ANSI_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', f: '\f', v: '\v' };

class Tokenizer {
  readonly commands: string[][] = [];
  #current: string[] = [];
  #word = '';
  #inWord = false;
  #quoted = false;
  #wordStart = 0;
  #redirectTarget = false;
  #heredocTarget: { stripTabs: boolean } | undefined;
  #heredocs: Heredoc[] = [];
  #i = 0;

  constructor(
    private readonly s: string,
    private readonly depth: number,
  ) {}

  run(): string[][] {
    const s = this.s;
    while (this.#i < s.length) {
      const c = s[this.#i];
      if (c === ' ' || c === '\t') this.#endWord(), this.#i++;
      else if (c === '\n') this.#newline();
      else if (c === '#' && !this.#inWord) this.#i = s.indexOf('\n', this.#i) === -1 ? s.length : s.indexOf('\n', this.#i);
      else if (c === '\\') this.#escape();
      else if (c === "'") this.#singleQuoted();
      else if (c === '"') this.#doubleQuoted();
      else if (c === '`') this.#backquoted();
      else if (c === '$') this.#dollar();
      else if ((c === '<' || c === '>') && s[this.#i + 1] === '(') this.#processSubstitution();
      else if (this.#redirection()) continue;
      else if (c === ';' || c === '&' || c === '|' || c === '(' || c === ')') this.#endCommand(), this.#i++;
      else this.#append(c), this.#i++;
    }
    this.#endCommand();
    return this.commands;
  }

  #append(text: string, quoted = false): void {
    if (!this.#inWord) this.#wordStart = this.#i;
    this.#inWord = true;
    this.#quoted ||= quoted;
    this.#word += text;
  }

  #endWord(): void {
    if (!this.#inWord) return;
    const word = this.#word;
    const raw = this.s.slice(this.#wordStart, this.#i);
    const quoted = this.#quoted;
    this.#word = '';
    this.#inWord = false;
    this.#quoted = false;
    if (this.#heredocTarget) {
      this.#heredocs.push({ delimiter: word, stripTabs: this.#heredocTarget.stripTabs });
      this.#heredocTarget = undefined;
    } else if (this.#redirectTarget) {
      this.#redirectTarget = false;
    } else if (this.#current.length === 0 && (ASSIGNMENT.test(raw) || (!quoted && RESERVED.has(word)))) {
      return;
    } else {
      this.#current.push(word);
    }
  }

  #endCommand(): void {
    this.#endWord();
    if (this.#current.length > 0) this.commands.push(this.#current);
    this.#current = [];
  }

  #newline(): void {
    this.#endCommand();
    this.#i++;
    for (const doc of this.#heredocs.splice(0)) this.#skipHeredoc(doc);
  }

  #skipHeredoc(doc: Heredoc): void {
    const s = this.s;
    while (this.#i < s.length) {
      const end = s.indexOf('\n', this.#i);
      const line = s.slice(this.#i, end === -1 ? s.length : end);
      this.#i = end === -1 ? s.length : end + 1;
      if ((doc.stripTabs ? line.replace(/^\t+/, '') : line) === doc.delimiter) return;
    }
  }

  #escape(): void {
    const next = this.s[this.#i + 1];
    if (next === '\n') this.#i += 2;
    else {
      this.#append(next ?? '', true);
      this.#i += 2;
    }
  }

  #singleQuoted(): void {
    const end = closing(this.s, this.#i + 1, "'");
    this.#append(this.s.slice(this.#i + 1, end), true);
    this.#i = end + 1;
  }

  #doubleQuoted(): void {
    const s = this.s;
    const end = closing(s, this.#i + 1, '"');
    let text = '';
    let i = this.#i + 1;
    while (i < end) {
      if (s[i] === '\\' && '$`"\\\n'.includes(s[i + 1] ?? '')) {
        if (s[i + 1] !== '\n') text += s[i + 1];
        i += 2;
      } else if (s.startsWith('$(', i) || s[i] === '`') {
        const next = this.#substitution(i);
        text += s.slice(i, next);
        i = next;
      } else text += s[i++];
    }
    this.#append(text, true);
    this.#i = end + 1;
  }

  /** Inspects the `$(…)` or `` `…` `` at `at`; returns the index just past it. */
  #substitution(at: number): number {
    const s = this.s;
    if (s[at] === '`') {
      const end = closing(s, at + 1, '`');
      this.#substitute(s.slice(at + 1, end).replace(/\\`/g, '`'));
      return end + 1;
    }
    const end = closingParen(s, at + 2);
    // `$((…))` is arithmetic: nothing in it runs as a command.
    if (s[at + 2] !== '(') this.#substitute(s.slice(at + 2, end));
    return end + 1;
  }

  #backquoted(): void {
    const next = this.#substitution(this.#i);
    this.#append(this.s.slice(this.#i, next));
    this.#i = next;
  }

  #dollar(): void {
    const s = this.s;
    const next = s[this.#i + 1];
    if (next === '(') {
      const end = this.#substitution(this.#i);
      this.#append(s.slice(this.#i, end));
      this.#i = end;
    } else if (next === "'") {
      this.#ansiQuoted();
    } else if (next === '"') {
      this.#i++;
      this.#doubleQuoted();
    } else if (next === '{') {
      const end = s.indexOf('}', this.#i);
      const stop = end === -1 ? s.length : end + 1;
      this.#append(s.slice(this.#i, stop));
      this.#i = stop;
    } else {
      this.#append('$');
      this.#i++;
    }
  }

  #ansiQuoted(): void {
    const s = this.s;
    let i = this.#i + 2;
    let text = '';
    while (i < s.length && s[i] !== "'") {
      if (s[i] === '\\' && i + 1 < s.length) {
        const e = s[i + 1];
        text += ANSI_ESCAPES[e] ?? e;
        i += 2;
      } else text += s[i++];
    }
    this.#append(text, true);
    this.#i = i + 1;
  }

  #processSubstitution(): void {
    const end = closingParen(this.s, this.#i + 2);
    this.#substitute(this.s.slice(this.#i + 2, end));
    this.#append(this.s.slice(this.#i, end + 1));
    this.#i = end + 1;
  }

  /** Consumes a redirection operator; its target word is then dropped. */
  #redirection(): boolean {
    const op = REDIRECTIONS.find((r) => this.s.startsWith(r, this.#i));
    if (op === undefined) return false;
    if (this.#inWord && !this.#quoted && FD_PREFIX.test(this.#word)) {
      this.#word = '';
      this.#inWord = false;
    } else this.#endWord();
    this.#i += op.length;
    if (op === '<<' || op === '<<-') this.#heredocTarget = { stripTabs: op === '<<-' };
    else this.#redirectTarget = true;
    return true;
  }

  #substitute(inner: string): void {
    if (this.depth < MAX_DEPTH) this.commands.push(...new Tokenizer(inner, this.depth + 1).run());
  }
}

/** The simple commands a shell string would run, each as its words (see the file comment). */
export function splitShellCommands(script: string, depth = 0): string[][] {
  return new Tokenizer(script, depth).run();
}

/** Why `rule` is not a usable command prefix (one simple command), or undefined when it is. */
export function commandRuleProblem(rule: string): string | undefined {
  const commands = splitShellCommands(rule);
  if (commands.length === 0) return `"${rule}" names no command; write a command prefix such as "git push"`;
  if (commands.length > 1) {
    return `"${rule}" holds ${commands.length} commands; write one command prefix per rule (e.g. "${commands[0].join(' ')}")`;
  }
  return undefined;
}
