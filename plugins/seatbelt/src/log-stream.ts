/**
 * Seatbelt denials from the macOS unified log, as `log stream --style compact` prints them:
 *
 *   2024-01-15 10:23:45.123 E  kernel[0:1a2b] (Sandbox) Sandbox: curl(1234) deny(1) network-outbound 93.184.216.34:443 fence-1a2b
 *
 * Pure: the parser and the `log stream` argv. Only lines carrying the session's log tag (which
 * the profile appends to every denial) belong to this sandbox.
 */
import type { Violation } from '@fence/core';

const DENIAL = /Sandbox: (.+)\((\d+)\) deny\(\d+\) (\S+)(?: (.*))?$/;

/** `log stream` arguments selecting this sandbox's denials. */
export function logStreamArgs(logTag: string): string[] {
  return ['stream', '--style', 'compact', '--predicate', `eventMessage ENDSWITH ${JSON.stringify(logTag)}`];
}

/** The violation in one line of `log stream`; undefined for other lines or other sandboxes. */
export function parseSandboxLogLine(line: string, time: number, logTag?: string): Violation | undefined {
  let text = line.trimEnd();
  if (logTag !== undefined) {
    if (!text.endsWith(` ${logTag}`)) return undefined;
    text = text.slice(0, -logTag.length - 1);
  }
  const m = DENIAL.exec(text);
  if (!m) return undefined;
  const [, process, pid, operation, target = ''] = m;
  return {
    time,
    source: 'seatbelt',
    action: 'block',
    target,
    process: process!,
    pid: Number(pid),
    reason: operation!,
    detail: `${operation} ${target} (${process}, pid=${pid})`.replace('  ', ' '),
  };
}
