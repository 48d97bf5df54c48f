/**
 * `runtimeExecPolicy` "path": the rules that can hold at the kernel's exec boundary without
 * reading arguments are the single-word ones (`sudo`, `mkfs`): their executables are made
 * unexecutable in the sandbox, for every process, whatever starts it. Pure: what to mask and
 * what to tell the user, from the policy and what executables.ts found.
 */
import type { Policy } from '@fence/core';
import { splitShellCommands } from './command-parse.js';
import { DEFAULT_DENIED_COMMANDS } from './command-rules.js';
import { baseName } from './command-views.js';
import { CRITICAL_COMMANDS, type DeniedExecutable } from './executables.js';

export interface RuntimePrograms {
  /** Programs whose executables are masked. */
  readonly programs: readonly string[];
  /** Single-word denied programs an allow rule starts with (`allow: ["sudo -l"]`): command lines only. */
  readonly allowedInPart: readonly string[];
}

const words = (rule: string): string[] => splitShellCommands(rule)[0] ?? [];

/** The single-word deny rules' programs (built-in ones with useDefaults), minus those allow rules use. */
export function runtimePrograms(command: Policy['command']): RuntimePrograms {
  const rules = [...command.deny, ...(command.useDefaults ? DEFAULT_DENIED_COMMANDS : [])];
  const single = new Set(rules.map(words).filter((w) => w.length === 1).map((w) => baseName(w[0]!)));
  const allowed = new Set(command.allow.map((r) => baseName(words(r)[0] ?? '')));
  return {
    programs: [...single].filter((p) => !allowed.has(p)).sort(),
    allowedInPart: [...single].filter((p) => allowed.has(p)).sort(),
  };
}

export interface MaskPlan {
  /** Real paths to make unexecutable. */
  readonly files: readonly string[];
  /** One line per masked multicall binary that also runs commands a shell needs (`ls`, `sh`). */
  readonly warnings: readonly string[];
  /** For -d: every other decision. */
  readonly notes: readonly string[];
}

const list = (names: readonly string[], max = 6): string =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;

/**
 * The masks for what was found. A file shared with other commands is masked all the same (the
 * sandbox is never weaker than configured), with a warning when it takes a critical command
 * along; unless every denied program on it is listed in acceptSharedBinaryCannotRuntimeDeny,
 * which keeps it executable (those programs are then checked on command lines only).
 */
export function planMasks(found: readonly DeniedExecutable[], command: Policy['command'], programs: RuntimePrograms): MaskPlan {
  const files: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const accepted = new Set(command.acceptSharedBinaryCannotRuntimeDeny);
  for (const f of found) {
    const names = f.programs.join(', ');
    if (f.sharedWith.length === 0) {
      files.push(f.file);
      notes.push(`unexecutable: ${f.file} (${names})`);
      continue;
    }
    if (f.programs.every((p) => accepted.has(p))) {
      notes.push(`${f.file} (${names}) stays executable: shared with ${list(f.sharedWith)}, and command.acceptSharedBinaryCannotRuntimeDeny lists ${names}; checked on command lines only`);
      continue;
    }
    files.push(f.file);
    const critical = f.sharedWith.filter((n) => CRITICAL_COMMANDS.has(n));
    const others = f.sharedWith.filter((n) => !CRITICAL_COMMANDS.has(n));
    const collateral = `${list(critical.length > 0 ? critical : others)}${critical.length > 0 && others.length > 0 ? ` (and ${others.length} other command(s))` : ''}`;
    const line = `${names} ${f.programs.length > 1 ? 'are' : 'is'} ${f.file}, which also runs ${collateral}: those cannot run in the sandbox either; list ${names} in command.acceptSharedBinaryCannotRuntimeDeny to check ${f.programs.length > 1 ? 'them' : 'it'} on command lines only`;
    (critical.length > 0 ? warnings : notes).push(line);
  }
  if (programs.allowedInPart.length > 0) {
    notes.push(`${programs.allowedInPart.join(', ')}: checked on command lines only (command.allow names ${programs.allowedInPart.length > 1 ? 'them' : 'it'} with arguments)`);
  }
  return { files, warnings, notes };
}
