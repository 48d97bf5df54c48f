/**
 * `fence import --claude`: Claude Code's permission rules (`permissions.allow|deny|ask` in its
 * settings files) as Fence settings that extend the `code` template. Each rule is mapped or
 * listed with the reason it cannot be. Pure.
 *
 * Rule syntax (Claude Code's documentation): `Tool` or `Tool(specifier)`. Bash specifiers are
 * command prefixes (`npm run test:*`, `git push *`) or exact commands; Read/Edit/Write paths
 * follow gitignore: `//p` absolute, `~/p` home, `/p` relative to the settings' project, `p` or
 * `./p` relative to the working directory, a name without a slash at any depth; WebFetch takes
 * `domain:host`.
 */
import { join, normalize } from 'node:path';
import { domainPatternProblem, type SettingsInput } from '@fence/core';

export interface ClaudeRules {
  readonly file: string;
  /** The directory `/p` paths are relative to: the one holding `.claude/`. */
  readonly root: string;
  readonly allow: readonly string[];
  readonly deny: readonly string[];
  readonly ask: readonly string[];
}

export interface Unmapped {
  readonly rule: string;
  readonly list: 'allow' | 'deny' | 'ask';
  readonly file: string;
  readonly why: string;
}

export interface ImportResult {
  readonly settings: SettingsInput;
  readonly mapped: number;
  readonly unmapped: readonly Unmapped[];
}

type Field = 'command.deny' | 'command.allow' | 'filesystem.denyRead' | 'filesystem.allowWrite' | 'filesystem.denyWrite' | 'network.allowedDomains' | 'network.deniedDomains';
type Mapping = { readonly field: Field; readonly value: string } | { readonly why: string };

const WRITE_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit']);

/** A Claude path pattern as an absolute Fence path (or `~/…`). */
export function fencePath(pattern: string, cwd: string, root: string): string {
  if (pattern.startsWith('//')) return normalize(pattern.slice(1));
  if (pattern === '~' || pattern.startsWith('~/')) return pattern;
  if (pattern.startsWith('/')) return normalize(join(root, pattern));
  const relative = pattern.startsWith('./') ? pattern.slice(2) : pattern;
  // gitignore: a pattern without a slash matches at any depth.
  return normalize(join(cwd, relative.includes('/') || pattern.startsWith('./') ? relative : `**/${relative}`));
}

function bashRule(spec: string, list: 'allow' | 'deny'): Mapping {
  const prefix = spec.replace(/(?::\*| \*)$/, '');
  const isPrefix = prefix !== spec;
  if (prefix.trim() === '' || prefix.includes('*')) return { why: 'a wildcard inside a command has no Fence equivalent (command rules are prefixes)' };
  if (list === 'allow' && !isPrefix) return { why: 'an exact command would allow every command it starts (Fence command rules are prefixes); add it to command.allow yourself if that is meant' };
  return { field: list === 'deny' ? 'command.deny' : 'command.allow', value: prefix.trim() };
}

function mapRule(rule: string, list: 'allow' | 'deny', cwd: string, root: string): Mapping {
  const m = /^([A-Za-z_][\w]*)(?:\((.*)\))?$/s.exec(rule.trim());
  if (!m) return { why: 'not a Claude Code permission rule' };
  const [, tool, spec] = m as unknown as [string, string, string | undefined];
  if (spec === undefined || spec === '' || spec === '*' || spec === '**') {
    return { why: `a rule for every ${tool} call has no Fence equivalent${tool === 'Bash' && list === 'deny' ? ' (it would refuse every command)' : ''}` };
  }
  if (tool === 'Bash') return bashRule(spec, list);
  if (tool === 'Read') {
    if (list === 'allow') return { why: 'reads are allowed by default; a credential store stays hidden unless you add it to filesystem.allowRead yourself' };
    return { field: 'filesystem.denyRead', value: fencePath(spec, cwd, root) };
  }
  if (WRITE_TOOLS.has(tool)) return { field: list === 'allow' ? 'filesystem.allowWrite' : 'filesystem.denyWrite', value: fencePath(spec, cwd, root) };
  if (tool === 'WebFetch') {
    const domain = /^domain:(.+)$/.exec(spec)?.[1];
    if (domain === undefined) return { why: 'Fence filters by domain: write WebFetch(domain:host)' };
    const problem = domainPatternProblem(domain);
    if (problem !== undefined) return { why: problem };
    return { field: list === 'allow' ? 'network.allowedDomains' : 'network.deniedDomains', value: domain };
  }
  return { why: `${tool} is a tool of Claude Code that Fence does not see (Fence sees processes, files and connections)` };
}

const words = (command: string): string[] => command.split(/\s+/).filter(Boolean);

/** The deny prefix that also covers `allowed` (Claude Code: deny wins; Fence: allow would). */
const coveringDeny = (allowed: string, denied: readonly string[]): string | undefined =>
  denied.find((d) => words(d).every((w, i) => words(allowed)[i] === w));

export function importClaudeRules(sources: readonly ClaudeRules[], cwd: string): ImportResult {
  const fields = new Map<Field, string[]>();
  const unmapped: Unmapped[] = [];
  let mapped = 0;
  for (const source of sources) {
    for (const rule of source.ask) unmapped.push({ rule, list: 'ask', file: source.file, why: 'Fence has no "ask": a command is allowed or denied' });
  }
  // Deny rules of every file first: an allow rule they cover is refused in Claude Code.
  for (const list of ['deny', 'allow'] as const) {
    for (const source of sources) {
      for (const rule of source[list]) {
        const mapping = mapRule(rule, list, cwd, source.root);
        const covered = 'field' in mapping && mapping.field === 'command.allow' ? coveringDeny(mapping.value, fields.get('command.deny') ?? []) : undefined;
        if (covered !== undefined) {
          unmapped.push({ rule, list, file: source.file, why: `the deny rule "${covered}" covers it, and Claude Code lets deny win (in Fence an allow rule would win)` });
          continue;
        }
        if ('why' in mapping) {
          unmapped.push({ rule, list, file: source.file, why: mapping.why });
          continue;
        }
        const values = fields.get(mapping.field) ?? [];
        if (!values.includes(mapping.value)) values.push(mapping.value);
        fields.set(mapping.field, values);
        mapped++;
      }
    }
  }
  const settings: Record<string, Record<string, string[]>> = {};
  for (const [field, values] of fields) {
    const [section, key] = field.split('.') as [string, string];
    settings[section] = { ...settings[section], [key]: values };
  }
  return { settings: { extends: 'code', ...settings }, mapped, unmapped };
}
