// Proxy throughput and connection costs: a download from a server on the host's loopback, direct
// (the floor) against each path from inside the sandbox (HTTP forward, CONNECT tunnel, SOCKS5).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ratio, stats, timeCommand } from './timing.mjs';

// The installed command (a shell launcher that starts Node from the CLI's startup snapshot).
const FENCE = resolve(import.meta.dirname, '../../packages/cli/bin/fence');
const SIZE = 512 * 1024 * 1024;

/** Starts load-server.mjs and resolves its port; the server exits when the bench does. */
function startServer() {
  const child = spawn(process.execPath, [resolve(import.meta.dirname, 'load-server.mjs'), String(SIZE)], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((res) => child.stdout.once('data', (d) => res({ port: Number(String(d).trim()), close: () => child.stdin.end() })));
}

/** Runs curl (directly or in fence) and returns MB/s from curl's own measurement. */
function curlSpeed(prefix, args) {
  const r = spawnSync(prefix[0] ?? 'curl', [...prefix.slice(1), ...(prefix.length ? ['curl'] : []), '-s', '-o', '/dev/null', '-w', '%{speed_download} %{size_download}', ...args], { encoding: 'utf8' });
  const [speed, size] = (r.stdout ?? '').trim().split(' ').map(Number);
  if (r.status !== 0 || size !== SIZE) throw new Error(`download failed (${r.status}): ${r.stderr}${r.stdout}`);
  return speed / 1e6;
}

/** curl's own time for each of `urls` (ms), fetched one after the other on one kept-alive connection. */
function transferTimes(prefix, args, urls) {
  const argv = [...prefix.slice(1), ...(prefix.length ? ['curl'] : []), '-s', '-w', '%{time_total}\n', ...args, ...urls.flatMap((u) => [u, '-o', '/dev/null'])];
  const r = spawnSync(prefix[0] ?? 'curl', argv, { encoding: 'utf8' });
  const times = (r.stdout ?? '').trim().split('\n').map((t) => Number(t) * 1000);
  if (r.status !== 0 || times.length !== urls.length) throw new Error(`requests failed (${r.status}): ${r.stderr}`);
  return times;
}

export async function networkBench() {
  const server = await startServer();
  const port = server.port;
  const dir = mkdtempSync(join(tmpdir(), 'fence-bench-net-'));
  const settings = join(dir, 'fence.json');
  writeFileSync(settings, JSON.stringify({ network: { allowedDomains: ['localhost'], allowLocalOutbound: true } }));
  const fence = [FENCE, '-s', settings, '--'];
  const url = `http://localhost:${port}/big`;
  const best = (f) => Math.max(f(), f(), f());
  console.log('\n## Network (512 MiB download from 127.0.0.1; best of 3)');
  const direct = best(() => curlSpeed([], [url]));
  console.log(`direct loopback            ${direct.toFixed(0)} MB/s`);
  for (const [label, args] of [
    // localhost is in the sandbox's NO_PROXY: `--noproxy ''` sends it through the proxies anyway.
    ['HTTP forward (in fence)', ['--noproxy', '', url]],
    ['CONNECT tunnel (in fence)', ['--noproxy', '', '-p', url]],
    ['SOCKS5 (in fence)', ['--noproxy', '', '--proxy', 'socks5h://127.0.0.1:1080', url]],
  ]) {
    const speed = best(() => curlSpeed(fence, args));
    console.log(`${label.padEnd(27)}${speed.toFixed(0)} MB/s   ratio ${(speed / direct).toFixed(2)} of direct (goal ≥ 0.5)`);
  }
  const small = `http://localhost:${port}/small`;
  const urls = Array.from({ length: 100 }, () => small);
  const directSetup = timeCommand(['curl', '-s', '-o', '/dev/null', ...urls], { runs: 5, warmup: 1 });
  const fencedSetup = timeCommand([...fence, 'curl', '--noproxy', '', '-s', '-o', '/dev/null', ...urls], { runs: 5, warmup: 1 });
  console.log(`100 sequential requests: direct ${directSetup.median.toFixed(1)} ms, in fence ${fencedSetup.median.toFixed(1)} ms (includes start-up), ratio ${ratio(fencedSetup, directSetup)}`);
  // One request against a hundred, in and out of fence: the difference is what 99 more requests cost.
  const directOne = timeCommand(['curl', '-s', '-o', '/dev/null', small], { runs: 5, warmup: 1 });
  const fencedOne = timeCommand([...fence, 'curl', '--noproxy', '', '-s', '-o', '/dev/null', small], { runs: 5, warmup: 1 });
  const perRequest = (many, one) => (many.median - one.median) / (urls.length - 1);
  const overhead = perRequest(fencedSetup, fencedOne) - perRequest(directSetup, directOne);
  console.log(`per request, from whole runs (start-up noise included): ${overhead.toFixed(2)} ms more than direct`);
  // The same from curl's own time per transfer, so start-up and its noise are out of it: medians
  // of five runs of the 100 (the first request of a run also pays for the proxy's decision).
  const times = (prefix, args) => stats(Array.from({ length: 5 }, () => transferTimes(prefix, args, urls)).flat());
  const directEach = times([], []);
  const fencedEach = times(fence, ['--noproxy', '']);
  console.log(
    `per request through the HTTP proxy: ${(fencedEach.median - directEach.median).toFixed(2)} ms more than direct ` +
      `(median of 500 transfers: ${fencedEach.median.toFixed(2)} against ${directEach.median.toFixed(2)} ms; goal ≤ 0.5)`,
  );
  const parallel = ['--parallel', '--parallel-max', '100', '-s', '-o', '/dev/null', ...urls.flatMap((u) => [u, '-o', '/dev/null'])];
  const directPar = timeCommand(['curl', ...parallel], { runs: 5, warmup: 1 });
  const fencedPar = timeCommand([...fence, 'curl', '--noproxy', '', ...parallel], { runs: 5, warmup: 1 });
  console.log(`100 concurrent clients:  direct ${directPar.median.toFixed(1)} ms, in fence ${fencedPar.median.toFixed(1)} ms, ratio ${ratio(fencedPar, directPar)}`);
  server.close();
}
