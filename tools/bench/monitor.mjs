// -m: what watching costs (attach + detach) against the same run unwatched, cold (`fence -m --
// true` against `fence -- true`) and warm (a library session's run()), and how many events of a
// 1 ms command are lost per source (goal 0).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, medianDifference, runCommand, timeAsync, timeInterleaved } from './timing.mjs';

const FENCE = resolve(import.meta.dirname, '../../packages/cli/bin/fence');
const RUNS = 50;
const quiet = { stdio: ['ignore', 'ignore', 'ignore'] };

/** Blocked events per source over RUNS runs of argv in one monitored session. */
async function countEvents(createSandbox, dir, argv) {
  const sandbox = await createSandbox({ cwd: dir, settings: {}, monitor: true });
  const counts = {};
  sandbox.violations.on((v) => v.action === 'block' && (counts[v.source] = (counts[v.source] ?? 0) + 1));
  for (let i = 0; i < RUNS; i++) await sandbox.run(argv, quiet);
  await sandbox.close();
  return counts;
}

export async function monitorBench() {
  const dir = mkdtempSync(join(tmpdir(), 'fence-bench-'));
  // In alternation, so a busy machine slows both alike; the overhead is the median of the per-pair differences.
  const [plain, watched] = await timeInterleaved([() => runCommand([FENCE, '--', 'true']), () => runCommand([FENCE, '-m', '--', 'true'])]);
  console.log('## Monitor (-m)');
  console.log(`fence -- true                      ${fmt(plain)}`);
  console.log(`fence -m -- true                   ${fmt(watched)}`);
  console.log(`-m overhead, cold (start + stop)   ${medianDifference(watched, plain).toFixed(1)} ms   (median of paired runs; goal ≤ 300 ms)`);

  const { createSandbox } = await import('@fence/cli');
  const warm = {};
  for (const monitor of [false, true]) {
    const sandbox = await createSandbox({ cwd: dir, settings: {}, monitor });
    warm[monitor] = await timeAsync(() => sandbox.run(['true'], quiet));
    await sandbox.close();
  }
  console.log(`warm session.run(['true'])         ${fmt(warm.false)}`);
  console.log(`warm session.run(['true']), -m     ${fmt(warm.true)}; overhead ${(warm.true.median - warm.false.median).toFixed(1)} ms`);

  const seccomp = (await countEvents(createSandbox, dir, ['unshare', '--user', 'true'])).seccomp ?? 0;
  console.log(`seccomp events of ${RUNS} runs of unshare --user (1 ms)   ${seccomp}; lost ${RUNS - seccomp} (goal 0)`);
  if (process.getuid?.() === 0) {
    const ebpf = (await countEvents(createSandbox, dir, ['touch', '/etc/fence-bench'])).ebpf ?? 0;
    console.log(`eBPF events of ${RUNS} runs of touch /etc/x (1 ms)       ${ebpf}; lost ${RUNS - ebpf} (goal 0)`);
  } else {
    console.log('eBPF events: skipped (needs root)');
  }
  // The bench does not turn the kernel's audit on: it measures the machine as it is.
  const audit = (await import('@fence/native')).addon()?.auditState();
  if (typeof audit === 'object' && audit.enabled) {
    const landlock = (await countEvents(createSandbox, dir, ['sh', '-c', 'kill -0 1 2>/dev/null; true'])).landlock ?? 0;
    console.log(`Landlock events of ${RUNS} runs of kill -0 1 (1 ms)      ${landlock}; lost ${RUNS - landlock} (goal 0)`);
  } else {
    console.log(`Landlock events: skipped (${typeof audit === 'object' ? "the kernel's audit is off" : 'needs root'})`);
  }
}
