// Timing primitives for the bench: hyperfine for whole commands when installed, otherwise (and
// for in-process measurements) repeated runs with min/median/max.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasHyperfine = spawnSync('sh', ['-c', 'command -v hyperfine']).status === 0;

export function stats(samplesMs) {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1], runs: s.length };
}

/** Times a shell-free command line; returns stats in ms. */
export function timeCommand(argv, { runs = 20, warmup = 3, env, cwd } = {}) {
  if (hasHyperfine) {
    const dir = mkdtempSync(join(tmpdir(), 'fence-bench-'));
    const out = join(dir, 'h.json');
    const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const r = spawnSync('hyperfine', ['-N', '--warmup', String(warmup), '--runs', String(runs), '--export-json', out, quoted], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: env ?? process.env,
      cwd,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`hyperfine failed for ${quoted}: ${r.stderr}`);
    const times = JSON.parse(readFileSync(out, 'utf8')).results[0].times.map((t) => t * 1000);
    rmSync(dir, { recursive: true, force: true });
    return stats(times);
  }
  const samples = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env: env ?? process.env, cwd });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
    if (i >= warmup) samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return stats(samples);
}

/** Times an async function; returns stats in ms. */
export async function timeAsync(fn, { runs = 20, warmup = 3 } = {}) {
  const samples = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    if (i >= warmup) samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return stats(samples);
}

export const fmt = (s) => `${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, n=${s.runs})`;
export const ratio = (a, b) => `${(a.median / b.median).toFixed(2)}×`;
