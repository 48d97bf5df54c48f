/** `fence [flags] -- <command>`: run one command in a fresh sandbox and return its status. */
import { isatty } from 'node:tty';
import type { DetectionReport, Violation } from '@fence/core';
import type { Flags } from '../args.js';
import { blockedSummary, formatViolation, summaryJson, unseenNotice, violationJson } from '../render/violation.js';
import { sandboxSummary } from '../render/features.js';
import { TimeOrder } from '../render/time-order.js';
import { sandboxFromFlags } from '../sandbox.js';
import { buildRecorded } from '../plan-cache/build.js';

/** What -m cannot show this user on this machine, from every layer's detection. */
const unseenOf = (report: DetectionReport): string[] => [...report.values()].flatMap((a) => a.unseen ?? []);

/** `flagWords`: fence's arguments before `--`, when the command came after one (a plan cache key). */
export async function runCommand(flags: Flags, command: readonly string[] | string, flagWords?: readonly string[]): Promise<number> {
  const sandbox = flagWords !== undefined && typeof command !== 'string' ? await buildRecorded(flags, flagWords) : await sandboxFromFlags(flags);
  // A raw terminal does not turn \n into \r\n: lines printed during the run carry their \r.
  const eol = isatty(2) ? '\r\n' : '\n';
  const write = (line: string) => process.stderr.write(`${line}${eol}`);
  const order = new TimeOrder((v: Violation) => write(flags.json ? violationJson(v) : formatViolation(v)));
  try {
    if (flags.debug) write(`[fence:kernel] Sandbox: ${sandboxSummary(sandbox.report, sandbox.kernel.active)}`);
    // On a terminal the command gets one of its own inside (job control, Ctrl-C for the job
    // inside); otherwise, and where no layer can allocate one, stdio is passed as is.
    const onTerminal = isatty(0) && (isatty(1) || isatty(2));
    if (onTerminal && !sandbox.supportsTty) {
      sandbox.kernel.logger.warn('the command has no terminal of its own (it needs the native helper: npm rebuild @fence/native): no job control, and Ctrl-C ends the whole sandbox');
    }
    const tty = onTerminal && sandbox.supportsTty;
    const unseen = flags.monitor ? unseenOf(sandbox.report) : [];
    for (const line of unseen) write(unseenNotice(line, flags.json));
    if (flags.monitor || flags.debug) {
      sandbox.violations.on((v) => {
        if (v.action === 'block' || flags.debug) order.push(v);
      });
    }
    const status = await sandbox.run(command, { forwardSignals: true, tty });
    order.flush();
    const counts = sandbox.violations.blockedCounts();
    if (flags.monitor) write(flags.json ? summaryJson(counts, status, unseen) : blockedSummary(counts));
    return status;
  } finally {
    order.flush();
    await sandbox.close();
  }
}
