// Runtime overhead of all layers on syscall-heavy work (find and tar over a 100k-file tree), and
// the glob / mandatory-path scan over the same tree.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, ratio, timeAsync, timeCommand } from './timing.mjs';

// The installed command (a shell launcher that starts Node from the CLI's startup snapshot).
const FENCE = resolve(import.meta.dirname, '../../packages/cli/bin/fence');

/** A tree of `files` files with a node_modules, like a real project. */
export function makeTree(files = 100_000) {
  // Not under /tmp: the sandbox's /tmp is private, so the fenced run would see an empty tree.
  const root = mkdtempSync('/var/tmp/fence-bench-tree-');
  const perDir = 100;
  for (let d = 0; d < files / perDir; d++) {
    const dir = join(root, d % 2 ? 'src' : 'node_modules', `pkg${d}`, d % 7 === 0 ? '.git' : 'lib');
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) writeFileSync(join(dir, `f${f}.js`), '');
  }
  return root;
}

/**
 * The creation guard's cost: every open that creates or writes waits for the guard (a round trip
 * through seccomp user notification). 10,000 files created in a writable directory, bare and in
 * fence, start-up subtracted.
 */
function creationBench() {
  const dir = mkdtempSync('/var/tmp/fence-bench-create-');
  writeFileSync(join(dir, 'fence.json'), JSON.stringify({ filesystem: { allowWrite: ['.'] } }));
  const files = 10_000;
  const workload = ['python3', '-c', `import os\nfor i in range(${files}): os.close(os.open(f'f{i}', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))`];
  const bare = timeCommand(workload, { runs: 5, warmup: 1, cwd: dir });
  const fenced = timeCommand([FENCE, '--', ...workload], { runs: 5, warmup: 1, cwd: dir });
  const fencedTrue = timeCommand([FENCE, '--', 'true'], { runs: 10, warmup: 2, cwd: dir });
  const perFile = ((fenced.median - fencedTrue.median - bare.median) / files) * 1000;
  console.log(`create ${files} files: bare ${fmt(bare)}; in fence ${fmt(fenced)}; the guard's cost ${perFile.toFixed(1)} µs per file, ratio (fenced − start-up) / bare ${((fenced.median - fencedTrue.median) / bare.median).toFixed(2)}×`);
  rmSync(dir, { recursive: true, force: true });
}

export async function runtimeBench() {
  const tree = makeTree();
  console.log('\n## Runtime overhead (100k-file tree)');
  // The workload runs long enough (~seconds) that noise is small; start-up is measured apart and
  // subtracted, so the ratio is the cost of the layers on the syscalls themselves.
  const workload = ['sh', '-c', `for i in 1 2 3; do find ${tree} -type f >/dev/null; tar -cf /dev/null ${tree}; done`];
  const bare = timeCommand(workload, { runs: 5, warmup: 1 });
  const fenced = timeCommand([FENCE, '--', ...workload], { runs: 5, warmup: 1 });
  const fencedTrue = timeCommand([FENCE, '--', 'true'], { runs: 10, warmup: 2 });
  const overhead = (fenced.median - fencedTrue.median) / bare.median;
  console.log(`find + tar ×3: bare ${fmt(bare)}; in fence ${fmt(fenced)}; fence start-up ${fmt(fencedTrue)}`);
  console.log(`runtime ratio (fenced − start-up) / bare: ${overhead.toFixed(3)}× (target ≤ 1.02×)`);
  creationBench();

  // The scan is gatherPaths (plugins/bwrap/src/gather.ts), timed in-process: the glob expansion
  // and mandatory-path search of a session's start, without the launch around it.
  const { gatherPaths } = await import('@fence/plugin-bwrap');
  const { loadPolicy } = await import('@fence/core');
  const empty = mkdtempSync('/var/tmp/fence-bench-empty-');
  const settings = { filesystem: { allowWrite: ['.'], denyRead: ['**/secret.env'], denyWrite: ['**/*.lock'] } };
  const logger = { debugEnabled: false, debug() {}, warn() {}, notice() {} };
  const gather = async (cwd) => {
    const { policy } = await loadPolicy({ cwd, home: homedir(), env: process.env, inline: settings });
    return () => gatherPaths(policy, logger, { netns: true, disableUserns: false });
  };
  // The walk cache (plugins/bwrap/src/walk-cache.ts) lives in a cache directory of this run's own;
  // a fresh one per run is a first start.
  const cacheHomes = [];
  const userCache = process.env.XDG_CACHE_HOME;
  const cacheHome = () => cacheHomes.push((process.env.XDG_CACHE_HOME = mkdtempSync('/var/tmp/fence-bench-cache-')));
  const time = async (cwd, fresh) => {
    const run = await gather(cwd);
    cacheHome();
    return timeAsync(async () => (fresh && cacheHome(), run()), { runs: 7, warmup: 1 });
  };
  const inEmpty = await time(empty, false);
  const cold = await time(tree, true);
  const warm = await time(tree, false);
  const walk = timeCommand(['find', tree], { runs: 5, warmup: 1 });
  const scan = { median: warm.median - inEmpty.median };
  const coldScan = { median: cold.median - inEmpty.median };
  console.log(`glob + mandatory-path scan of the tree, unchanged since the last start: ${scan.median.toFixed(1)} ms (gather ${fmt(warm)} − empty ${fmt(inEmpty)}) (target ≤ 30 ms)`);
  console.log(`the same on a first start (no cache): ${coldScan.median.toFixed(1)} ms (gather ${fmt(cold)})`);
  console.log(`ratio scan / bare find of the tree: ${ratio(scan, walk)}, first start ${ratio(coldScan, walk)} (find ${fmt(walk)})`);
  for (const dir of [empty, ...cacheHomes]) rmSync(dir, { recursive: true, force: true });
  if (userCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = userCache;
  rmSync(tree, { recursive: true, force: true });
}
