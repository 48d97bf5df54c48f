/**
 * The CLI's logger. By default the kernel's own (`fence: warning: …` lines, debug lines with -d).
 * With --json, stderr is read by programs, one JSON object per line: a warning (a degraded layer,
 * a limit that stopped the command) becomes an event of source `fence` and action `warning`.
 */
import type { Logger } from '@fence/core';
import type { Flags } from './args.js';

export function cliLogger(flags: Flags): Logger | undefined {
  if (!flags.json) return undefined;
  return {
    debugEnabled: flags.debug,
    debug(layer, message) {
      if (flags.debug) process.stderr.write(`[fence:${layer}] ${message}\n`);
    },
    warn(message) {
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), source: 'fence', action: 'warning', reason: message })}\n`);
    },
    notice(message) {
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), source: 'fence', action: 'notice', reason: message })}\n`);
    },
  };
}
