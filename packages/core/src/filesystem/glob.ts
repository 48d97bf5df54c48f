/**
 * Fence's glob language, the same for every layer: `*` any part of one name, `**` as a whole name
 * any depth (none included), `?` one character, `[...]` a class (`[!...]` negated); everything else
 * is literal (the schema refuses brace patterns). `*` and `?` match dot files too.
 *
 * Matching and base directories come from picomatch, loaded the first time a policy holds a glob,
 * so a start without one never pays for it. Seatbelt takes POSIX regexes without lookaround, which
 * picomatch's output needs: `globToPosixRegex` writes that dialect from the same language.
 */
import { createRequire } from 'node:module';

interface Picomatch {
  scan(glob: string, options?: object): { base: string; isGlob: boolean };
  makeRe(glob: string, options?: object): RegExp;
}

declare const require: ((id: string) => unknown) | undefined;

let picomatch: Picomatch | undefined;

/**
 * picomatch, on first use. In the CLI bundle (CommonJS) `require` exists and the bundler inlines the
 * package behind it; elsewhere (ESM) it is resolved next to this module.
 */
function loadPicomatch(): Picomatch {
  picomatch ??= (typeof require === 'function' ? require('picomatch') : createRequire(import.meta.url)('picomatch')) as Picomatch;
  return picomatch;
}

/** Whether a settings path is a glob (checked without loading picomatch). */
export const hasGlob = (value: string): boolean => /[*?[]/.test(value);

/** picomatch's own syntax beyond Fence's language (extglobs, braces, escapes), made literal outside classes. */
function escapeForPicomatch(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    const end = c === '[' ? glob.indexOf(']', i + 2) : -1;
    if (end > 0) {
      out += glob.slice(i, end + 1);
      i = end;
    } else out += /[\\()|+@!{}$^]/.test(c) || (c === '[' && end < 0) ? `\\${c}` : c;
  }
  return out;
}

const OPTIONS = { dot: true, posix: true } as const;

/** The directory `glob` (absolute) can only match beneath: its literal leading directories. */
export function globBase(glob: string): string {
  return loadPicomatch().scan(escapeForPicomatch(glob), { ...OPTIONS, unescape: true }).base || '/';
}

const matchers = new Map<string, RegExp>();

/**
 * Whether the absolute, normalised `path` is matched by `glob` itself (not only by a parent). The
 * walk calls this for every entry: picomatch's regex is tested directly (its matcher function
 * normalises each input first, which the walk's paths do not need, at several times the cost).
 */
export function globMatches(glob: string, path: string): boolean {
  let match = matchers.get(glob);
  if (!match) {
    match = loadPicomatch().makeRe(escapeForPicomatch(glob), OPTIONS);
    matchers.set(glob, match);
  }
  return match.test(path);
}

const REGEX_SPECIAL = /[.^$+(){}|\\[\]]/g;

/** `value` as a literal in a POSIX extended regex. */
export const escapeRegex = (value: string): string => value.replace(REGEX_SPECIAL, '\\$&');

/**
 * An absolute glob as an anchored POSIX extended regex that matches the path and everything below
 * it (Seatbelt's `regex` filter): `dir/**` is the directory itself and its contents.
 */
export function globToPosixRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    const wholeName = glob[i - 1] === '/' && (glob[i + 2] === '/' || i + 2 === glob.length);
    if (glob.startsWith('**', i) && wholeName && i + 2 === glob.length) {
      out = out.slice(0, -1); // `dir/**`: the trailing (/.*)? below covers it
      i += 1;
    } else if (glob.startsWith('**/', i) && wholeName) {
      out = `${out.slice(0, -1)}(/.*)?/`;
      i += 2;
    } else if (c === '*') {
      out += '[^/]*';
      while (glob[i + 1] === '*') i++;
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`.replace(/\\/g, '\\\\');
        i = end;
      }
    } else out += escapeRegex(c);
  }
  return `^${out}(/.*)?$`;
}
