// STUB: replaced by the command policy implementation.
import type { Policy } from './policy.js';

export function checkCommand(_argv: readonly string[], _policy: Policy['command']): void {}
