/**
 * Where each agent keeps its hook configuration, and the edits `fence hooks install|uninstall`
 * make to it: one entry that runs Fence's entry point, added or removed without touching the rest
 * of the file (json-edit.ts). Installing twice changes nothing; uninstalling after installing
 * gives back the file as it was (a file Fence created is removed again). Pure.
 */
import { isAbsolute, join } from 'node:path';
import { entryFlag, type Agent } from './contracts.js';
import { pinWords, type Pin } from './decide.js';
import { appendChild, JsonEditError, nodeAt, parseJsonc, removeChild, valueOf } from './json-edit.js';
import { opencodePlugin, OPENCODE_MARKER } from './opencode-plugin.js';

export interface Scope {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  /** `--project`: the project directory instead of the user's configuration. */
  readonly project?: string;
}

/** The file `fence hooks install` edits for `agent`. */
export function hookFile(agent: Agent, { home, env, project }: Scope): string {
  switch (agent) {
    case 'claude':
      return join(project ?? home, '.claude/settings.json');
    case 'codex':
      return project !== undefined ? join(project, '.codex/hooks.json') : join(env.CODEX_HOME && isAbsolute(env.CODEX_HOME) ? env.CODEX_HOME : join(home, '.codex'), 'hooks.json');
    case 'cursor':
      return join(project ?? home, '.cursor/hooks.json');
    case 'opencode':
      return project !== undefined
        ? join(project, '.opencode/plugins/fence.js')
        : join(env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config'), 'opencode/plugins/fence.js');
  }
}

/** The shell command the agent runs: Fence's entry point with the pinned policy. */
export const hookCommand = (agent: Agent, pin: Pin): string => ['fence', entryFlag(agent), ...pinWords(pin)].join(' ');

interface JsonShape {
  /** Keys of the array holding the hook entries. */
  readonly path: readonly string[];
  /** What a file Fence creates holds besides the hooks. */
  readonly skeleton: Record<string, unknown>;
  readonly entry: (command: string) => Record<string, unknown>;
  readonly commands: (entry: unknown) => unknown[];
}

const asRecord = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

/** Claude Code and Codex: `hooks.PreToolUse[{ matcher, hooks: [{ type, command }] }]`. */
const preToolUseShape: JsonShape = {
  path: ['hooks', 'PreToolUse'],
  skeleton: {},
  entry: (command) => ({ matcher: 'Bash', hooks: [{ type: 'command', command }] }),
  commands: (e) => (Array.isArray(asRecord(e).hooks) ? (asRecord(e).hooks as unknown[]).map((h) => asRecord(h).command) : []),
};

const shapes: Readonly<Record<Exclude<Agent, 'opencode'>, JsonShape>> = {
  claude: preToolUseShape,
  codex: preToolUseShape,
  // failClosed: a hook that cannot answer blocks the command instead of letting it through.
  cursor: {
    path: ['hooks', 'beforeShellExecution'],
    skeleton: { version: 1 },
    entry: (command) => ({ command, failClosed: true }),
    commands: (e) => [asRecord(e).command],
  },
};

export type EditResult = { readonly text: string | undefined; readonly changed: boolean };

const isOurs = (agent: Agent, shape: JsonShape, entry: unknown): boolean =>
  shape.commands(entry).some((c) => typeof c === 'string' && c.split(/\s+/).includes(entryFlag(agent)));

const nest = (keys: readonly string[], leaf: unknown): unknown => keys.reduceRight<unknown>((v, k) => ({ [k]: v }), leaf);

function objectRoot(text: string) {
  const root = parseJsonc(text);
  if (root.type !== 'object') throw new JsonEditError('the file does not hold a JSON object');
  return root;
}

/** The indices of Fence's entries in the hooks array, checking the file's shape on the way. */
function ourEntries(agent: Agent, shape: JsonShape, text: string): number[] {
  const root = objectRoot(text);
  for (let depth = 1; depth <= shape.path.length; depth++) {
    const node = nodeAt(root, shape.path.slice(0, depth));
    if (node === undefined) return [];
    const want = depth === shape.path.length ? 'array' : 'object';
    if (node.type !== want) throw new JsonEditError(`"${shape.path.slice(0, depth).join('.')}" is not ${want === 'array' ? 'an array' : 'an object'}`);
  }
  const entries = nodeAt(root, shape.path)!.children ?? [];
  return entries.flatMap((node, i) => (isOurs(agent, shape, valueOf(node)) ? [i] : []));
}

function removeEntries(text: string, shape: JsonShape, indices: readonly number[]): string {
  let out = text;
  for (const i of [...indices].reverse()) out = removeChild(out, nodeAt(parseJsonc(out), shape.path)!, i);
  return out;
}

function appendEntry(text: string, shape: JsonShape, entry: unknown): string {
  const root = objectRoot(text);
  for (let depth = 1; depth <= shape.path.length; depth++) {
    if (nodeAt(root, shape.path.slice(0, depth)) !== undefined) continue;
    const parent = depth === 1 ? root : nodeAt(root, shape.path.slice(0, depth - 1))!;
    return appendChild(text, parent, nest(shape.path.slice(depth), [entry]), shape.path[depth - 1]);
  }
  return appendChild(text, nodeAt(root, shape.path)!, entry);
}

export function installJson(agent: Exclude<Agent, 'opencode'>, text: string | undefined, command: string): EditResult {
  const shape = shapes[agent];
  const entry = shape.entry(command);
  if (text === undefined || text.trim() === '') {
    return { text: `${JSON.stringify({ ...shape.skeleton, ...asRecord(nest(shape.path, [entry])) }, null, 2)}\n`, changed: true };
  }
  const ours = ourEntries(agent, shape, text);
  if (ours.length === 1) {
    const current = valueOf(nodeAt(parseJsonc(text), [...shape.path, ours[0]!])!);
    if (JSON.stringify(current) === JSON.stringify(entry)) return { text, changed: false };
  }
  return { text: appendEntry(removeEntries(text, shape, ours), shape, entry), changed: true };
}

/** Removes Fence's entries, and the containers that are left empty; undefined: delete the file. */
export function uninstallJson(agent: Exclude<Agent, 'opencode'>, text: string | undefined): EditResult {
  if (text === undefined) return { text, changed: false };
  const shape = shapes[agent];
  const ours = ourEntries(agent, shape, text);
  if (ours.length === 0) return { text, changed: false };
  let out = removeEntries(text, shape, ours);
  for (let depth = shape.path.length; depth >= 1; depth--) {
    const root = parseJsonc(out);
    if ((nodeAt(root, shape.path.slice(0, depth))!.children ?? []).length > 0) break;
    const parent = depth === 1 ? root : nodeAt(root, shape.path.slice(0, depth - 1))!;
    const index = (parent.children ?? []).findIndex((p) => p.children?.[0]?.value === shape.path[depth - 1]);
    out = removeChild(out, parent, index);
  }
  const left = valueOf(parseJsonc(out));
  return { text: JSON.stringify(left) === JSON.stringify(shape.skeleton) || JSON.stringify(left) === '{}' ? undefined : out, changed: true };
}

/** opencode: a plugin file of Fence's own; another file at that path is never touched. */
export function installPlugin(text: string | undefined, pin: Pin): EditResult {
  if (text !== undefined && !text.startsWith(OPENCODE_MARKER)) throw new JsonEditError('the file exists and was not written by Fence');
  const plugin = opencodePlugin(pin);
  return { text: plugin, changed: text !== plugin };
}

export function uninstallPlugin(text: string | undefined): EditResult {
  if (text === undefined) return { text, changed: false };
  if (!text.startsWith(OPENCODE_MARKER)) throw new JsonEditError('the file was not written by Fence; remove it yourself if it is Fence\'s');
  return { text: undefined, changed: true };
}

/** What `fence hooks print` shows: the entry as it goes into the file. */
export function printedEntry(agent: Agent, pin: Pin): string {
  if (agent === 'opencode') return opencodePlugin(pin);
  const shape = shapes[agent];
  return `${JSON.stringify({ ...shape.skeleton, ...asRecord(nest(shape.path, [shape.entry(hookCommand(agent, pin))])) }, null, 2)}\n`;
}
