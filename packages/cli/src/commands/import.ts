/**
 * `fence import --claude [--save]`: reads Claude Code's settings files (the user's, the
 * project's and the project's local one), prints the Fence settings their permission rules map
 * to, and lists each rule it could not map on stderr. `--save` writes them to ./fence.json and
 * never overwrites settings that are there.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errors, SettingsSchema } from '@fence/core';
import { importClaudeRules, type ClaudeRules } from '../agents/claude-import.js';
import { JsonEditError, parseJsonc, valueOf } from '../agents/json-edit.js';

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function readRules(file: string, root: string): ClaudeRules | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw errors.agentFile(file, `cannot be read (${(e as Error).message})`, 'check its permissions');
  }
  let value: unknown;
  try {
    value = valueOf(parseJsonc(text));
  } catch (e) {
    if (!(e instanceof JsonEditError)) throw e;
    throw errors.agentFile(file, e.message, 'fix the file and import again');
  }
  const permissions = (value as { permissions?: Record<string, unknown> } | undefined)?.permissions ?? {};
  return { file, root, allow: strings(permissions.allow), deny: strings(permissions.deny), ask: strings(permissions.ask) };
}

export function importClaude(save: boolean): number {
  const cwd = process.cwd();
  const home = process.env.HOME ?? homedir();
  const files = [
    [join(home, '.claude/settings.json'), home],
    [join(cwd, '.claude/settings.json'), cwd],
    [join(cwd, '.claude/settings.local.json'), cwd],
  ] as const;
  const sources = files.flatMap(([file, root]) => readRules(file, root) ?? []);
  if (sources.length === 0) {
    throw errors.agentFile(files.map(([f]) => f).join(', '), 'no Claude Code settings file found', 'run fence import --claude where Claude Code has its settings');
  }
  const { settings, mapped, unmapped } = importClaudeRules(sources, cwd);
  // The mapping only writes what the schema accepts; checked so a bad file is never saved.
  const check = SettingsSchema.safeParse(settings);
  if (!check.success) throw errors.settingsInvalid('the imported settings', check.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  const text = `${JSON.stringify(settings, null, 2)}\n`;
  for (const u of unmapped) process.stderr.write(`fence: import: not mapped: ${u.list} "${u.rule}" (${u.file}): ${u.why}\n`);
  process.stderr.write(`fence: import: ${mapped} rule(s) mapped, ${unmapped.length} not mapped, from ${sources.map((s) => s.file).join(', ')}\n`);
  if (!save) {
    process.stdout.write(text);
    return 0;
  }
  const target = join(cwd, 'fence.json');
  const existing = [target, join(cwd, 'fence.jsonc')].find((f) => existsSync(f));
  if (existing !== undefined) {
    throw errors.flagInvalid('--save', `${existing} exists and was left as it is; run fence import --claude without --save to print the settings and merge them by hand, or move the file away`);
  }
  writeFileSync(target, text, { flag: 'wx' });
  process.stderr.write(`fence: import: wrote ${target}\n`);
  return 0;
}
