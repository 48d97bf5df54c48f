/** `fence [flags] -- <command>`: run one command in a fresh sandbox and return its status. */
import type { Violation } from '@fence/core';
import type { Flags } from '../args.js';
import { blockedSummary, formatViolation, violationJson } from '../render/violation.js';
import { sandboxSummary } from '../render/features.js';
import { sandboxFromFlags } from '../sandbox.js';

export async function runCommand(flags: Flags, command: readonly string[] | string): Promise<number> {
  const sandbox = await sandboxFromFlags(flags);
  try {
    if (flags.debug) {
      process.stderr.write(`[fence:kernel] Sandbox: ${sandboxSummary(sandbox.report, sandbox.kernel.active)}\n`);
    }
    if (flags.monitor || flags.debug) {
      sandbox.violations.on((v: Violation) => {
        if (v.action !== 'block' && !flags.debug) return;
        process.stderr.write(`${flags.json ? violationJson(v) : formatViolation(v)}\n`);
      });
    }
    const status = await sandbox.run(command, { forwardSignals: true });
    if (flags.monitor && !flags.json) process.stderr.write(`${blockedSummary(sandbox.violations.blockedCounts())}\n`);
    return status;
  } finally {
    await sandbox.close();
  }
}
