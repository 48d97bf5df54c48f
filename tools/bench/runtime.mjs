// Runtime overhead of all layers on syscall-heavy work (find and tar over a 100k-file tree), and
// the glob / mandatory-path scan over the same tree.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  const { createSandbox } = await import('@fence/cli');
  const empty = mkdtempSync('/var/tmp/fence-bench-empty-');
  const settings = { filesystem: { allowWrite: ['.'], denyRead: ['**/secret.env'], denyWrite: ['**/*.lock'] } };
  const setUp = (cwd) => timeAsync(async () => (await createSandbox({ cwd, settings })).close(), { runs: 5, warmup: 1 });
  const inTree = await setUp(tree);
  const inEmpty = await setUp(empty);
  const walk = timeCommand(['find', tree], { runs: 5, warmup: 1 });
  const scan = { median: inTree.median - inEmpty.median };
  console.log(`glob + mandatory-path scan of the tree: ${scan.median.toFixed(1)} ms (session set-up ${fmt(inTree)} − empty ${fmt(inEmpty)})`);
  console.log(`ratio scan / bare find of the tree: ${ratio(scan, walk)} (find ${fmt(walk)})`);
  rmSync(tree, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
}
