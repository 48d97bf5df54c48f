/** `fence [flags] -- <command>`: run one command in a fresh sandbox and return its status. */
import { isatty } from 'node:tty';
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
    // On a terminal the command gets one of its own inside (job control, Ctrl-C for the job
    // inside); otherwise, and where no layer can allocate one, stdio is passed as is.
    const onTerminal = isatty(0) && (isatty(1) || isatty(2));
    if (onTerminal && !sandbox.supportsTty) {
      sandbox.kernel.logger.warn('the command has no terminal of its own (it needs the native helper: npm rebuild @fence/native): no job control, and Ctrl-C ends the whole sandbox');
    }
    const tty = onTerminal && sandbox.supportsTty;
    // A raw terminal does not turn \n into \r\n: lines printed during the run carry their \r.
    const eol = isatty(2) ? '\r\n' : '\n';
    if (flags.monitor || flags.debug) {
      sandbox.violations.on((v: Violation) => {
        if (v.action !== 'block' && !flags.debug) return;
        process.stderr.write(`${flags.json ? violationJson(v) : formatViolation(v)}${eol}`);
      });
    }
    const status = await sandbox.run(command, { forwardSignals: true, tty });
    if (flags.monitor && !flags.json) process.stderr.write(`${blockedSummary(sandbox.violations.blockedCounts())}\n`);
    return status;
  } finally {
    await sandbox.close();
  }
}
