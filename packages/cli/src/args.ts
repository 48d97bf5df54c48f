/**
 * Command-line parsing (node:util parseArgs): argv → a typed Invocation. Flags end at `--` or at
 * the first word that is not a flag; everything after is the command, exactly as given. A
 * subcommand (`config show`, `check`) is not a command to run: flags may follow it too.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errors } from '@fence/core';
import { AGENTS, type Agent } from './agents/contracts.js';
import type { HooksAction } from './commands/hooks.js';

export interface Flags {
  readonly settings?: string;
  readonly template?: string;
  readonly ports: readonly number[];
  readonly monitor: boolean;
  readonly debug: boolean;
  readonly strict: boolean;
  readonly json: boolean;
  readonly plugins: readonly string[];
}

export type Invocation =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'features'; readonly flags: Flags }
  | { readonly kind: 'config-show'; readonly flags: Flags }
  | { readonly kind: 'config-schema' }
  | { readonly kind: 'check'; readonly flags: Flags }
  | { readonly kind: 'landlock-apply'; readonly command: readonly string[] }
  | { readonly kind: 'pre-tool-use'; readonly agent: Agent; readonly flags: Flags }
  | { readonly kind: 'hooks'; readonly action: HooksAction; readonly agents: readonly Agent[]; readonly project: boolean; readonly flags: Flags }
  | { readonly kind: 'import'; readonly save: boolean }
  | { readonly kind: 'run'; readonly flags: Flags; readonly command: readonly string[] | string };

const OPTIONS = {
  settings: { type: 'string', short: 's' },
  template: { type: 'string', short: 't' },
  c: { type: 'string', short: 'c' },
  port: { type: 'string', short: 'p', multiple: true },
  monitor: { type: 'boolean', short: 'm' },
  debug: { type: 'boolean', short: 'd' },
  'linux-features': { type: 'boolean' },
  strict: { type: 'boolean' },
  json: { type: 'boolean' },
  plugin: { type: 'string', multiple: true },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  'landlock-apply': { type: 'boolean' },
  // The agent hooks' entry points, and the agents `fence hooks` and `fence import` act on.
  'claude-pre-tool-use': { type: 'boolean' },
  'codex-pre-tool-use': { type: 'boolean' },
  'cursor-pre-tool-use': { type: 'boolean' },
  'opencode-pre-tool-use': { type: 'boolean' },
  claude: { type: 'boolean' },
  codex: { type: 'boolean' },
  cursor: { type: 'boolean' },
  opencode: { type: 'boolean' },
  project: { type: 'boolean' },
  save: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

const SUBCOMMANDS = new Set(['config', 'check', 'hooks', 'import']);
const HOOKS_ACTIONS: readonly string[] = ['print', 'install', 'uninstall'] satisfies HooksAction[];

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) {
    throw errors.flagInvalid(`-p ${value}`, 'a port must be a whole number from 1 to 65535');
  }
  return n;
}

/** Splits argv into Fence's own part and the command (after `--` or the first non-flag word). */
function split(argv: readonly string[]): { own: string[]; rest: string[]; terminated: boolean } {
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'option-terminator') return { own: argv.slice(0, t.index), rest: argv.slice(t.index + 1), terminated: true };
    if (t.kind === 'positional') return { own: argv.slice(0, t.index), rest: argv.slice(t.index), terminated: false };
  }
  return { own: [...argv], rest: [], terminated: false };
}

type Values = ReturnType<typeof parseOwn>['values'];

function parseOwn(args: string[], allowPositionals: boolean) {
  try {
    return parseArgs({ args, options: OPTIONS, strict: true, allowPositionals });
  } catch (e) {
    const message = e instanceof Error ? e.message.replace(/\. To specify.*$/s, '') : String(e);
    throw errors.flagInvalid(args.join(' ') || '(flags)', `${message}; see fence --help`);
  }
}

/** Flags given after a subcommand join those before it; a repeatable one collects both. */
function mergeValues(before: Values, after: Values): Values {
  const merged: Record<string, unknown> = { ...before };
  for (const [key, value] of Object.entries(after)) {
    const prior = merged[key];
    merged[key] = Array.isArray(prior) && Array.isArray(value) ? [...prior, ...value] : value;
  }
  return merged as Values;
}

export function parseInvocation(argv: readonly string[]): Invocation {
  const { own, rest, terminated } = split(argv);
  let { values } = parseOwn(own, false);
  let words = rest;
  const isSubcommand = !terminated && values.c === undefined && rest.length > 0 && SUBCOMMANDS.has(rest[0]!);
  if (isSubcommand) {
    const after = parseOwn(rest.slice(1), true);
    values = mergeValues(values, after.values);
    words = [rest[0]!, ...after.positionals];
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const flags: Flags = {
    settings: values.settings,
    template: values.template,
    ports: (values.port ?? []).map(parsePort),
    monitor: values.monitor ?? false,
    debug: values.debug ?? false,
    strict: values.strict ?? false,
    json: values.json ?? false,
    plugins: values.plugin ?? [],
  };
  if (flags.json && !flags.monitor && !flags.debug) throw errors.flagInvalid('--json', 'only applies with -m or -d');
  if (values['landlock-apply']) {
    if (rest.length === 0) throw errors.commandMissing();
    return { kind: 'landlock-apply', command: rest };
  }
  const entries = AGENTS.filter((a) => values[`${a}-pre-tool-use`]);
  if (entries.length > 0) {
    if (entries.length > 1 || rest.length > 0 || values.c !== undefined) {
      throw errors.flagInvalid(`--${entries[0]}-pre-tool-use`, 'reads one tool call as JSON on stdin; it takes no command and no other entry point');
    }
    return { kind: 'pre-tool-use', agent: entries[0]!, flags };
  }
  if (values['linux-features']) return { kind: 'features', flags };
  const agents = AGENTS.filter((a) => values[a]);
  const agentFlagsApply = isSubcommand && (rest[0] === 'hooks' || rest[0] === 'import');
  for (const flag of [...agents, ...(values.project ? ['project'] : []), ...(values.save ? ['save'] : [])]) {
    if (!agentFlagsApply) throw errors.flagInvalid(`--${flag}`, 'only applies to "fence hooks" and "fence import"; see fence --help');
  }
  if (isSubcommand) {
    if (values.c !== undefined) throw errors.flagInvalid('-c', `runs a command; it does not apply to "fence ${rest[0]}"`);
    return subcommand(words, flags, { agents, project: values.project ?? false, save: values.save ?? false });
  }
  if (values.c !== undefined) {
    if (rest.length > 0) throw errors.flagInvalid('-c', `takes one shell string; unexpected "${rest[0]}" after it (quote the whole string)`);
    if (values.c.trim() === '') throw errors.flagInvalid('-c', 'the shell string is empty');
    return { kind: 'run', flags, command: values.c };
  }
  if (rest.length === 0) throw errors.commandMissing();
  return { kind: 'run', flags, command: rest };
}

interface AgentFlags {
  readonly agents: readonly Agent[];
  readonly project: boolean;
  readonly save: boolean;
}

const AGENT_FLAGS = AGENTS.map((a) => `--${a}`).join(', ');

function agentSubcommand(name: string, args: readonly string[], flags: Flags, { agents, project, save }: AgentFlags): Invocation {
  if (name === 'import') {
    if (args.length > 0) throw errors.flagInvalid('import', `takes no arguments (got "${args[0]}")`);
    if (project) throw errors.flagInvalid('--project', 'applies to "fence hooks"; "fence import --save" writes fence.json in the working directory');
    if (agents.length !== 1 || agents[0] !== 'claude') throw errors.flagInvalid('import', 'imports Claude Code\'s permission rules: use "fence import --claude [--save]"');
    if (flags.settings !== undefined || flags.template !== undefined) {
      throw errors.flagInvalid(flags.settings !== undefined ? '--settings' : '--template', 'does not apply to "fence import": the imported settings extend the code template');
    }
    return { kind: 'import', save };
  }
  const action = args[0];
  if (args.length !== 1 || action === undefined || !HOOKS_ACTIONS.includes(action)) {
    throw errors.flagInvalid(`hooks ${args.join(' ')}`.trim(), `use "fence hooks print|install|uninstall" with ${AGENT_FLAGS}`);
  }
  if (save) throw errors.flagInvalid('--save', 'applies to "fence import"');
  if (agents.length === 0) throw errors.flagInvalid(`hooks ${action}`, `name the agent: ${AGENT_FLAGS} (several at once are fine)`);
  return { kind: 'hooks', action: action as HooksAction, agents, project, flags };
}

function subcommand(words: readonly string[], flags: Flags, agentFlags: AgentFlags): Invocation {
  const [name, ...args] = words;
  if (name === 'hooks' || name === 'import') return agentSubcommand(name, args, flags, agentFlags);
  if (name === 'check') {
    if (args.length > 0) throw errors.flagInvalid('check', `takes no arguments (got "${args[0]}")`);
    return { kind: 'check', flags };
  }
  if (args[0] === 'show' && args.length === 1) return { kind: 'config-show', flags };
  if (args[0] === 'schema' && args.length === 1) return { kind: 'config-schema' };
  throw errors.flagInvalid(`config ${args.join(' ')}`.trim(), 'unknown config subcommand; use "fence config show" or "fence config schema"');
}
