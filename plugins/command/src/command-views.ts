/**
 * What a command line runs, as the command policy sees it: argv itself, the command behind
 * wrappers (`env X=1 git push`, `nohup`, `timeout 5`, `xargs`, `sudo` …) and the simple commands
 * of `bash -c '…'`/`sh -c`/`eval` scripts, recursively, each with its program name reduced to the
 * base name (`/usr/bin/git push` is `git push`). Pure.
 */
import { splitShellCommands } from './command-parse.js';

export const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish']);

interface Wrapper {
  /** Options that take the next word as their value. */
  readonly withValue?: readonly string[];
  /** Positional words before the command (timeout's duration). */
  readonly positional?: number;
  /** Leading `NAME=value` words are settings, not the command (env). */
  readonly assignments?: boolean;
}

/** Programs that run the command given in their arguments. */
export const WRAPPERS: Record<string, Wrapper> = {
  builtin: {},
  busybox: {},
  command: {},
  doas: { withValue: ['-u', '-C'] },
  env: { withValue: ['-u', '--unset', '-C', '--chdir'], assignments: true },
  exec: { withValue: ['-a'] },
  ionice: { withValue: ['-c', '-n', '-p', '-P', '-u', '--class', '--classdata'] },
  nice: { withValue: ['-n', '--adjustment'] },
  nohup: {},
  setsid: {},
  stdbuf: { withValue: ['-i', '-o', '-e', '--input', '--output', '--error'] },
  sudo: { withValue: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U', '-T', '--user', '--group', '--chdir', '--prompt'] },
  time: { withValue: ['-f', '-o', '--format', '--output'] },
  timeout: { withValue: ['-s', '-k', '--signal', '--kill-after'], positional: 1 },
  xargs: { withValue: ['-a', '-d', '-E', '-I', '-L', '-n', '-P', '-s', '--arg-file', '--delimiter', '--max-args', '--max-procs', '--max-chars'] },
};

/**
 * The dynamic loader runs the program named in its arguments (`ld.so /usr/bin/git push`): the
 * kernel execs the loader, never the program's file.
 */
const LOADER: Wrapper = { withValue: ['--library-path', '--preload', '--audit', '--argv0', '--inhibit-rpath'] };
for (const name of ['ld.so', 'ld-linux.so.2', 'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1', 'ld-linux-armhf.so.3', 'ld64.so.2']) WRAPPERS[name] = LOADER;

/** git's own options, before its subcommand (`git -C dir push` is `git push`); those taking the next word. */
const GIT_WITH_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--super-prefix', '--config-env', '--attr-source']);

/** `git <subcommand> …` without git's own options, or undefined when it has none. */
function gitSubcommand(args: readonly string[]): string[] | undefined {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-') && args[i] !== '--') i += GIT_WITH_VALUE.has(args[i]!) ? 2 : 1;
  if (args[i] === '--') i++;
  return i > 0 && i < args.length ? args.slice(i) : undefined;
}

/** `bash -c '…'` recursion deeper than this is not inspected. */
const MAX_DEPTH = 8;

export const baseName = (word: string): string => word.slice(word.lastIndexOf('/') + 1);

/** The command `env -S 'git push' x` / `env git push` … runs, or undefined. */
function unwrap(name: string, args: readonly string[]): string[] | undefined {
  const spec = WRAPPERS[name];
  if (spec === undefined) return undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (name === 'env' && (a === '-S' || a === '--split-string')) {
      return [...(args[i + 1] ?? '').split(/\s+/).filter(Boolean), ...args.slice(i + 2)];
    }
    if (name === 'env' && /^(-S|--split-string=)/.test(a)) {
      return [...a.replace(/^(-S|--split-string=)/, '').split(/\s+/).filter(Boolean), ...args.slice(i + 1)];
    }
    if (spec.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) continue;
    if (!a.startsWith('-') || a === '-') break;
    if (spec.withValue?.includes(a)) i++;
  }
  const rest = args.slice(i + (spec.positional ?? 0));
  return rest.length > 0 ? rest : undefined;
}

/** The script of `bash -c script`, `sh -xc script` …, or undefined. */
function shellScript(args: readonly string[]): string | undefined {
  let sawC = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--' || a === '-') return sawC ? args[i + 1] : undefined;
    if (['-o', '+o', '-O', '+O', '--rcfile', '--init-file'].includes(a)) i++;
    else if (a.startsWith('--')) continue;
    else if (/^[-+][A-Za-z]+$/.test(a)) sawC ||= a.startsWith('-') && a.includes('c');
    else return sawC ? a : undefined;
  }
  return undefined;
}

/**
 * Every command `argv` would run that the policy can see: argv itself, the commands behind
 * wrappers, and the simple commands of shell scripts (`bash -c`, `eval`), each with its program
 * name reduced to the base name.
 */
export function commandViews(argv: readonly string[], program?: string): string[][] {
  const views: string[][] = [];
  const visit = (words: readonly string[], depth: number): void => {
    if (words.length === 0 || depth > MAX_DEPTH) return;
    const name = depth === 0 && program !== undefined ? program : baseName(words[0]);
    const args = words.slice(1);
    views.push([name, ...args]);
    const script = SHELLS.has(name) ? shellScript(args) : name === 'eval' ? args.join(' ') : undefined;
    if (script !== undefined) for (const c of splitShellCommands(script)) visit(c, depth + 1);
    const inner = unwrap(name, args);
    if (inner) visit(inner, depth + 1);
    // git's dashed form (`git-push`, in git's exec path) and git with its own options first.
    if (/^git-[a-z]/.test(name)) views.push(['git', name.slice(4), ...args]);
    const sub = name === 'git' ? gitSubcommand(args) : undefined;
    if (sub) views.push(['git', ...sub]);
  };
  visit(argv, 0);
  return views;
}

