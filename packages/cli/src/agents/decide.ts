/**
 * What an agent hook answers for one shell command: deny it (the command policy refuses it), run
 * it through `fence -c` (rewrite), or let it pass unchanged (already inside Fence, or the agent
 * cannot rewrite). Pure.
 */
import type { Policy } from '@fence/core';
import { commandDeniedError, findCommandDenial } from './command-policy.js';

/** Settings the hook was installed with, so the check and the rewritten run use the same policy. */
export interface Pin {
  /** An absolute settings file path. */
  readonly settings?: string;
  readonly template?: string;
}

export type HookDecision =
  | { readonly kind: 'deny'; readonly reason: string }
  | { readonly kind: 'rewrite'; readonly command: string }
  | { readonly kind: 'pass'; readonly why: 'inside-fence' | 'no-rewrite' | 'not-a-shell-command' };

/** `s` as one single-quoted shell word. */
export const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** Fence's flags that pin the policy, as shell words. */
export const pinWords = (pin: Pin): string[] => [
  ...(pin.settings !== undefined ? ['--settings', shellQuote(pin.settings)] : []),
  ...(pin.template !== undefined ? ['--template', shellQuote(pin.template)] : []),
];

/** The shell command that runs `command` in a sandbox under the pinned policy. */
export const fenceCommand = (command: string, pin: Pin): string => ['fence', ...pinWords(pin), '-c', shellQuote(command)].join(' ');

export interface DecideInput {
  readonly command: string;
  readonly policy: Pick<Policy, 'command' | 'ssh'>;
  /** The hook runs inside a Fence sandbox already (FENCE_SANDBOX=1): commands run there anyway. */
  readonly insideFence: boolean;
  /** The agent's contract can replace the command. */
  readonly canRewrite: boolean;
  readonly pin: Pin;
}

export function decide({ command, policy, insideFence, canRewrite, pin }: DecideInput): HookDecision {
  // Checked as `fence -c` checks a shell string: every command the script would run.
  const denial = findCommandDenial(['bash', '-c', command], policy);
  if (denial) return { kind: 'deny', reason: `fence: ${commandDeniedError(denial).message}` };
  if (insideFence) return { kind: 'pass', why: 'inside-fence' };
  if (!canRewrite) return { kind: 'pass', why: 'no-rewrite' };
  return { kind: 'rewrite', command: fenceCommand(command, pin) };
}
