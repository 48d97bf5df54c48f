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
    runCommand(argv, { env, cwd });
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

/**
 * Times several functions in rounds, one run of each per round, so that a machine's load, which
 * drifts over seconds, weighs on all of them alike: stats per function (ms), each with its samples.
 */
export async function timeInterleaved(fns, { runs = 20, warmup = 3 } = {}) {
  const samples = fns.map(() => []);
  for (let i = 0; i < warmup + runs; i++)
    for (const [k, fn] of fns.entries()) {
      const t0 = process.hrtime.bigint();
      await fn();
      if (i >= warmup) samples[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  return samples.map((s) => ({ ...stats(s), samples: s }));
}

/** The median of the per-round differences a − b of two interleaved series (ms). */
export const medianDifference = (a, b) => stats(a.samples.map((x, i) => x - b.samples[i])).median;

/** Runs a shell-free command to its end; throws on a non-zero exit. */
export function runCommand(argv, { env, cwd } = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env: env ?? process.env, cwd });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
}

export const fmt = (s) => `${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, n=${s.runs})`;
export const ratio = (a, b) => `${(a.median / b.median).toFixed(2)}×`;
