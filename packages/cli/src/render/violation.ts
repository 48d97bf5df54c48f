/** Text and JSON rendering of violation events (-m, -d, --json). */
import type { Violation } from '@fence/core';

const pad = (n: number) => String(n).padStart(2, '0');

export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `[fence:http] 14:03:22 ✗ CONNECT 403 example.com https://example.com:443` */
export function formatViolation(v: Violation): string {
  const mark = v.action === 'block' ? '✗' : '✓';
  const what = v.detail ?? `${v.target}${v.reason ? ` (${v.reason})` : ''}`;
  return `[fence:${v.source}] ${clockTime(v.time)} ${mark} ${what}`;
}

export function violationJson(v: Violation): string {
  const { time, source, action, target, process, pid, reason } = v;
  return JSON.stringify({ time: new Date(time).toISOString(), source, action, target, process, pid, reason });
}

/** One line at exit with -m: what was blocked, per source. */
export function blockedSummary(counts: ReadonlyMap<string, number>): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return 'fence: nothing was blocked';
  const parts = [...counts].map(([source, n]) => `${source} ${n}`).join(', ');
  return `fence: blocked ${total} action${total === 1 ? '' : 's'} (${parts})`;
}

/** The last JSON line with -m --json: what was blocked per source, the status, what -m could not see. */
export function summaryJson(counts: ReadonlyMap<string, number>, status: number, unseen: readonly string[]): string {
  const blocked = [...counts.values()].reduce((a, b) => a + b, 0);
  return JSON.stringify({ summary: { blocked, sources: Object.fromEntries(counts), status, unseen } });
}

/** What -m will not show, said once at its start: `fence: -m does not show …`, or a JSON line. */
export function unseenNotice(line: string, json: boolean): string {
  return json ? JSON.stringify({ unseen: line }) : `fence: -m does not show ${line}`;
}
