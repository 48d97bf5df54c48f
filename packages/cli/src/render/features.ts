/** The feature report (`fence --linux-features`) and the one-line sandbox summary. */
import type { DetectionReport, FencePlugin } from '@fence/core';

export function sandboxSummary(report: DetectionReport, plugins: readonly FencePlugin[]): string {
  const layers: string[] = [];
  const monitors: string[] = [];
  for (const p of plugins) {
    const a = report.get(p.name);
    if (!a || a.status === 'absent' || !a.summary) continue;
    (p.provides.includes('monitor') || p.name === 'proxy' ? monitors : layers).push(a.summary);
  }
  return `${layers.join(', ')}${monitors.length ? `, monitor: ${monitors.join('+')}` : ''}`;
}

export function featureReport(report: DetectionReport, plugins: readonly FencePlugin[], title: string): string {
  const lines = [`${title}:`];
  for (const p of plugins) {
    const a = report.get(p.name);
    if (!a) continue;
    for (const f of a.features ?? []) {
      lines.push(`  ${f.mark} ${f.name}: ${f.value}`.padEnd(48) + ` ${f.consequence}`);
    }
    if (!a.features?.length) {
      const mark = a.status === 'available' ? '✓' : a.status === 'degraded' ? '○' : '✗';
      lines.push(`  ${mark} ${p.name}: ${a.status}${a.reason ? ` (${a.reason})` : ''}`);
    }
  }
  lines.push('', `Sandbox: ${sandboxSummary(report, plugins) || 'none (no sandbox layer available)'}`);
  return lines.join('\n');
}
