// Start-up: cold `fence -- true` against bare `true`, bare bwrap and `node -e 0`; warm session
// commands against bare bwrap spawned from Node.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, medianDifference, ratio, runCommand, stats, timeCommand, timeInterleaved } from './timing.mjs';

// The installed command (a shell launcher that starts Node from the CLI's startup snapshot).
const FENCE = resolve(import.meta.dirname, '../../packages/cli/bin/fence');
export const BARE_BWRAP = ['bwrap', '--new-session', '--die-with-parent', '--unshare-all', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', 'true'];

const spawnDone = (argv) =>
  new Promise((res, rej) => spawn(argv[0], argv.slice(1), { stdio: 'ignore' }).on('exit', (c) => (c === 0 ? res() : rej(new Error(`${argv[0]} exited ${c}`)))).on('error', rej));

/**
 * The in-sandbox helper (Landlock, seccomp, the creation guard, exec) against bare bwrap: the
 * kernel layers' start-up cost, as Fence runs it (the helper as the sandbox's init, in place of
 * bwrap's own: launch.ts). Interleaved with bare bwrap, the median of the per-round differences.
 */
async function helperBench(createSandbox, dir) {
  const [native, { encodeHelperPlan, helperSession }] = await Promise.all([import('@fence/native'), import('@fence/linux-helper')]);
  const helper = native.helperPath();
  if (!helper) return 'helper: not built (skipped)';
  const sandbox = await createSandbox({ cwd: dir, settings: {} });
  const plan = Buffer.from(encodeHelperPlan(helperSession(sandbox.kernel).plan)).toString('base64');
  await sandbox.close();
  // The helper is bound back over the private /tmp: a checkout under /tmp would otherwise vanish.
  const withHelper = [...BARE_BWRAP.slice(0, -1), '--as-pid-1', '--ro-bind', helper, helper, helper, '--', 'true'];
  const env = { ...process.env, FENCE_LAUNCH_PLAN: plan };
  const [bare, fenced] = await timeInterleaved([() => runCommand(BARE_BWRAP), () => runCommand(withHelper, { env })], { runs: 40 });
  return `bwrap + fence-launch (Landlock, seccomp, guard; as init) ${fmt(fenced)}, bare bwrap alternately ${fmt(bare)}; helper cost ${medianDifference(fenced, bare).toFixed(1)} ms (median of 40 paired differences; target ≤ 2 ms)`;
}

/**
 * Fills the plan cache for `fence <flags> -- true` in `dir` and says whether the fast path takes
 * it: a plan is stored once its inputs are 2 s old (the racy rule of packages/cli/src/plan-cache).
 * With allowed domains the first run also starts the shared proxy service, which later runs reuse.
 */
function warmPlanCache(dir, flags = [], env = process.env) {
  const argv = [...flags, '--', 'true'];
  spawnSync(FENCE, argv, { cwd: dir, env: { ...env, FENCE_FAST_PATH: '0' } });
  spawnSync('sleep', ['2.1']);
  spawnSync(FENCE, argv, { cwd: dir, env: { ...env, FENCE_FAST_PATH: '0' } });
  const r = spawnSync(FENCE, argv, { cwd: dir, env: { ...env, FENCE_FAST_PATH: 'explain' }, encoding: 'utf8' });
  return r.stderr.trim();
}

/**
 * How long a client waits for the default policy's refusal (issue 12: immediate, not a DNS retry):
 * curl's own time from start to the 403, inside `fence -- …`, for plain HTTP and a CONNECT tunnel.
 */
function refusalTime(cwd) {
  const curlMs = (url) => {
    const r = spawnSync(FENCE, ['--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{http_connect} %{time_total}', url], { cwd, encoding: 'utf8' });
    const [code, connect, seconds] = r.stdout.trim().split(' ');
    if (code !== '403' && connect !== '403') throw new Error(`refusal bench: expected a 403 for ${url}, got ${r.stdout}${r.stderr}`);
    return Number(seconds) * 1000;
  };
  const median = (url) => stats(Array.from({ length: 11 }, () => curlMs(url))).median;
  return `default policy, curl until the 403: http ${median('http://example.com/').toFixed(1)} ms, https (CONNECT) ${median('https://example.com/').toFixed(1)} ms (goal ≤ 100 ms)`;
}

export async function startupBench() {
  const dir = mkdtempSync(join(tmpdir(), 'fence-bench-'));
  const twoDomains = join(dir, 'two-domains.json');
  writeFileSync(twoDomains, JSON.stringify({ network: { allowedDomains: ['example.com', '*.example.org'] } }));
  const node = process.execPath;
  const bare = timeCommand(['true']);
  const nodeE = timeCommand([node, '-e', '0']);
  const bwrap = timeCommand(BARE_BWRAP);
  const fast = warmPlanCache(dir);
  const cold = timeCommand([FENCE, '--', 'true'], { cwd: dir });
  const coldNode = timeCommand([FENCE, '--', 'true'], { cwd: dir, env: { ...process.env, FENCE_FAST_PATH: '0' } });
  const fastNet = warmPlanCache(dir, ['-s', twoDomains]);
  const coldNet = timeCommand([FENCE, '-s', twoDomains, '--', 'true'], { cwd: dir });
  const version = timeCommand([FENCE, '--version']);
  // An agent hook pays this before each shell command: settings and the command policy, no sandbox.
  const payload = join(dir, 'claude-pre-tool-use.json');
  writeFileSync(payload, JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'npm test' }, cwd: dir }));
  const hook = timeCommand(['sh', '-c', 'exec "$0" --claude-pre-tool-use -t code < "$1" > /dev/null', FENCE, payload]);
  console.log('## Start-up');
  console.log(`bare true                          ${fmt(bare)}`);
  console.log(`node -e 0                          ${fmt(nodeE)}`);
  console.log(`bare bwrap … true (floor)          ${fmt(bwrap)}`);
  console.log(`fence -- true (default policy)     ${fmt(cold)}   (${fast})`);
  console.log(`the same through Node (no fast path) ${fmt(coldNode)}`);
  console.log(`fence -- true (two domains)        ${fmt(coldNet)}   (${fastNet}; the proxies of the shared service)`);
  console.log(`fence --version                    ${fmt(version)}`);
  console.log(`fence --claude-pre-tool-use -t code ${fmt(hook)}`);
  console.log(`ratio cold fence / node -e 0       ${ratio(cold, nodeE)}   (two domains: ${ratio(coldNet, nodeE)}; target ≤ 1.4×)`);
  console.log(`ratio cold fence / bare bwrap      ${ratio(cold, bwrap)}   (fast path; target ≤ 2×; through Node: ${ratio(coldNode, bwrap)}; two domains: ${ratio(coldNet, bwrap)})`);
  console.log(`ratio fence --version / node -e 0  ${ratio(version, nodeE)}   (target ≤ 1.15×)`);
  console.log(`ratio agent hook / fence --version ${ratio(hook, version)}   (per shell command of an agent)`);
  if (process.env.NODE_EXTRA_CA_CERTS) {
    // fence skips Node's parse of NODE_EXTRA_CA_CERTS (the CLI makes no TLS connections), which
    // node -e 0 pays: the ratio on equal footing is the one a machine without the variable sees.
    const { NODE_EXTRA_CA_CERTS: _, ...plain } = process.env;
    const nodePlain = timeCommand([node, '-e', '0'], { env: plain });
    warmPlanCache(dir, ['-s', twoDomains], plain);
    const netPlain = timeCommand([FENCE, '-s', twoDomains, '--', 'true'], { env: plain, cwd: dir });
    console.log(`without NODE_EXTRA_CA_CERTS: node -e 0 ${fmt(nodePlain)}; fence -- true (two domains) ${fmt(netPlain)}`);
    console.log(`ratio cold fence (two domains) / node -e 0, both without NODE_EXTRA_CA_CERTS  ${ratio(netPlain, nodePlain)}   (target ≤ 1.5×)`);
  }

  console.log(refusalTime(dir));

  const { createSandbox } = await import('@fence/cli');
  console.log(await helperBench(createSandbox, dir));
  // Both sessions and bare bwrap in rounds, one command of each per round (timeInterleaved).
  const policies = [
    ['default policy', {}],
    ['two domains', { network: { allowedDomains: ['example.com', '*.example.org'] } }],
  ];
  const sandboxes = await Promise.all(policies.map(([, settings]) => createSandbox({ cwd: dir, settings })));
  const quiet = { stdio: ['ignore', 'ignore', 'ignore'] };
  const [warmBwrap, ...warm] = await timeInterleaved([() => spawnDone(BARE_BWRAP), ...sandboxes.map((s) => () => s.run(['true'], quiet))], { runs: 30 });
  await Promise.all(sandboxes.map((s) => s.close()));
  for (const [i, [label]] of policies.entries()) {
    console.log(`warm session.run(['true']) (${label})`.padEnd(45) + fmt(warm[i]));
    console.log(`ratio warm / bare bwrap from Node (${label})  ${ratio(warm[i], warmBwrap)}   (target ≤ 1.5×)`);
  }
  console.log(`${'bare bwrap spawned from Node, alternately'.padEnd(45)}${fmt(warmBwrap)}`);
}
