/** `fence [flags] -- <command>`: run one command in a fresh sandbox and return its status. */
import type { DetectionReport, Violation } from '@fence/core';
import type { Flags } from '../args.js';
import { blockedSummary, formatViolation, summaryJson, unseenNotice, violationJson } from '../render/violation.js';
import { sandboxSummary } from '../render/features.js';
import { TimeOrder } from '../render/time-order.js';
import { sandboxFromFlags } from '../sandbox.js';

/** What -m cannot show this user on this machine, from every layer's detection. */
const unseenOf = (report: DetectionReport): string[] => [...report.values()].flatMap((a) => a.unseen ?? []);

export async function runCommand(flags: Flags, command: readonly string[] | string): Promise<number> {
  const sandbox = await sandboxFromFlags(flags);
  const write = (line: string) => process.stderr.write(`${line}\n`);
  const order = new TimeOrder((v: Violation) => write(flags.json ? violationJson(v) : formatViolation(v)));
  try {
    if (flags.debug) write(`[fence:kernel] Sandbox: ${sandboxSummary(sandbox.report, sandbox.kernel.active)}`);
    const unseen = flags.monitor ? unseenOf(sandbox.report) : [];
    for (const line of unseen) write(unseenNotice(line, flags.json));
    if (flags.monitor || flags.debug) {
      sandbox.violations.on((v) => {
        if (v.action === 'block' || flags.debug) order.push(v);
      });
    }
    const status = await sandbox.run(command, { forwardSignals: true });
    order.flush();
    const counts = sandbox.violations.blockedCounts();
    if (flags.monitor) write(flags.json ? summaryJson(counts, status, unseen) : blockedSummary(counts));
    return status;
  } finally {
    order.flush();
    await sandbox.close();
  }
}
