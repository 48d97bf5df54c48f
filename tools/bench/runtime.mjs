// Runtime overhead of all layers on syscall-heavy work (find and tar over a 100k-file tree), and
// the glob / mandatory-path scan over the same tree.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, ratio, timeAsync, timeCommand } from './timing.mjs';

const FENCE = resolve(import.meta.dirname, '../../packages/cli/bin/fence.cjs');

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
  for (const [label, argv] of [
    ['find', ['find', tree, '-type', 'f']],
    ['tar', ['tar', '-cf', '/dev/null', tree]],
  ]) {
    const bare = timeCommand(argv, { runs: 5, warmup: 1 });
    const fenced = timeCommand([process.execPath, FENCE, '--', ...argv], { runs: 5, warmup: 1 });
    console.log(`${label.padEnd(5)} bare ${fmt(bare)}; in fence ${fmt(fenced)}; ratio ${ratio(fenced, bare)} (target ≤ 1.02× plus start-up)`);
  }
  const { createSandbox } = await import('@fence/cli');
  const settings = { filesystem: { allowWrite: ['.'], denyRead: ['**/secret.env'], denyWrite: ['**/*.lock'] } };
  const scan = await timeAsync(async () => (await createSandbox({ cwd: tree, settings })).close(), { runs: 5, warmup: 1 });
  const walk = timeCommand(['find', tree], { runs: 5, warmup: 1 });
  rmSync(tree, { recursive: true, force: true });
  console.log(`glob + mandatory-path scan: session set-up ${fmt(scan)}; bare find of the tree ${fmt(walk)}; ratio ${ratio(scan, walk)}`);
}
