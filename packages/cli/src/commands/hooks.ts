/**
 * `fence hooks print|install|uninstall --claude|--codex|--cursor|--opencode [--project]`: shows,
 * adds or removes the hook that makes the agent check each shell tool call with Fence. Every
 * edit is computed before any file is written, so a file Fence cannot read changes nothing.
 */
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { errors, isTemplateName, templateNames } from '@fence/core';
import type { Flags } from '../args.js';
import type { Agent } from '../agents/contracts.js';
import type { Pin } from '../agents/decide.js';
import { hookCommand, hookFile, installJson, installPlugin, printedEntry, uninstallJson, uninstallPlugin, type EditResult } from '../agents/hook-files.js';
import { JsonEditError } from '../agents/json-edit.js';

export type HooksAction = 'print' | 'install' | 'uninstall';

function pinOf(flags: Flags): Pin {
  if (flags.template !== undefined && !isTemplateName(flags.template)) throw errors.templateUnknown(flags.template, templateNames);
  if (flags.settings === undefined) return { template: flags.template };
  const settings = resolve(flags.settings);
  try {
    readFileSync(settings);
  } catch {
    throw errors.settingsMissing(settings);
  }
  return { settings, template: flags.template };
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw errors.agentFile(file, `cannot be read (${(e as Error).message})`, 'check its permissions');
  }
}

function edit(action: 'install' | 'uninstall', agent: Agent, file: string, pin: Pin): EditResult {
  const text = readOptional(file);
  try {
    if (agent === 'opencode') return action === 'install' ? installPlugin(text, pin) : uninstallPlugin(text);
    return action === 'install' ? installJson(agent, text, hookCommand(agent, pin)) : uninstallJson(agent, text);
  } catch (e) {
    if (!(e instanceof JsonEditError)) throw e;
    throw errors.agentFile(file, e.message, `fix the file (or move it away) and run fence hooks ${action} --${agent} again; nothing was changed`);
  }
}

/** Whether the agent, with this PATH, finds the `fence` its hook runs. */
function fenceOnPath(): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir || '.', 'fence'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function hooksCommand(action: HooksAction, agents: readonly Agent[], flags: Flags, project: boolean): number {
  const pin = pinOf(flags);
  const scope = { home: process.env.HOME ?? homedir(), env: process.env, project: project ? process.cwd() : undefined };
  if (action === 'print') {
    for (const agent of agents) process.stdout.write(`// ${hookFile(agent, scope)}\n${printedEntry(agent, pin)}`);
    return 0;
  }
  const plans = agents.map((agent) => {
    const file = hookFile(agent, scope);
    return { agent, file, result: edit(action, agent, file, pin) };
  });
  for (const { agent, file, result } of plans) {
    if (result.changed && result.text === undefined) rmSync(file, { force: true });
    else if (result.changed) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, result.text!);
    }
    const done = action === 'install' ? (result.changed ? 'installed in' : 'already installed in') : result.changed ? 'removed from' : 'not found in';
    process.stderr.write(`fence: the ${agent} hook ${done} ${file}\n`);
  }
  if (action === 'install' && !fenceOnPath()) {
    process.stderr.write('fence: warning: no "fence" on PATH: the agent runs "fence --<agent>-pre-tool-use" and will not find it (Claude Code and Codex then run commands unchecked); install Fence where the agent\'s PATH reaches it (npm i -g @fence/cli)\n');
  }
  return 0;
}
