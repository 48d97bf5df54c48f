import { existsSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { isFenceError, Kernel, SettingsSchema, type KernelOptions, type LaunchPlan, type Policy, type Violation, createLaunchPlan, resolveFilesystem } from '@fence/core';
import { helperSession } from '@fence/linux-helper';
import { afterEach, describe, expect, it } from 'vitest';
import defaultExport, { proxyPlugin } from '../src/index.js';
import { collect, deadPort, tempDir } from './support.js';

const addonBuilt = (createRequire(import.meta.url)('@fence/native') as { addon(): { sendFd?: unknown } | undefined }).addon()?.sendFd !== undefined;
const dirs: { remove(): void }[] = [];
const plans: LaunchPlan[] = [];

afterEach(async () => {
  for (const p of plans.splice(0)) await Promise.allSettled(p.services.map((s) => s.stop()));
  for (const d of dirs.splice(0)) d.remove();
});

async function prepare(network: object, options: Partial<KernelOptions> = {}) {
  const dir = tempDir();
  dirs.push(dir);
  const { $schema: _s, extends: _e, ...settings } = SettingsSchema.parse({ network });
  const policy: Policy = { ...settings, paths: resolveFilesystem(settings.filesystem, dir.path, dir.path), cwd: dir.path, home: dir.path, trusted: [] };
  const kernel = new Kernel({
    plugins: [proxyPlugin],
    options: { platform: 'linux', debug: false, monitor: false, strict: false, ports: [], ...options },
    logger: { debugEnabled: false, debug: () => undefined, warn: () => undefined, notice: () => undefined },
  });
  const report = await kernel.activate(policy);
  const plan = createLaunchPlan(policy, { path: () => dir.path, created: true });
  await kernel.hooks.prepare.promise(plan, report);
  plans.push(plan);
  return { plan, kernel, dir: dir.path, helper: helperSession(kernel).plan };
}

describe('proxyPlugin', () => {
  it('is the default export too, for linux and darwin, providing network', async () => {
    expect(defaultExport).toBe(proxyPlugin);
    expect(proxyPlugin).toMatchObject({ name: 'proxy', platforms: ['linux', 'darwin'], provides: ['network'] });
    expect((await proxyPlugin.detect()).status).toBe('available');
  });

  it('starts no host proxy when no domain is allowed and nobody watches: the helper refuses on the proxy ports', async () => {
    const { plan, helper } = await prepare({});
    expect(plan.services).toEqual([]);
    expect(helper.bridges.map((b) => [b.kind, b.port])).toEqual([['refuse', 3128], ['refuse', 1080]]);
    expect(plan.env.HTTP_PROXY).toBe('http://127.0.0.1:3128');
    expect(plan.notes.map((n) => n.message).join('\n')).toMatch(/proxies not started; the helper refuses every request/);
  });

  it('starts nothing and clears proxy variables on darwin when no domain is allowed', async () => {
    const { plan, helper } = await prepare({}, { platform: 'darwin' });
    expect(plan.services).toEqual([]);
    expect(helper.bridges).toEqual([]);
    expect(plan.env.HTTP_PROXY).toBeUndefined();
    expect('HTTP_PROXY' in plan.env).toBe(true);
  });

  it('fills services, bridges and environment, and its proxies report to the kernel stream', async () => {
    const { plan, kernel, dir, helper } = await prepare({ allowedDomains: ['github.com'], httpProxyPort: 3128, socksProxyPort: 1080 });
    expect(plan.services.map((s) => s.name)).toEqual(['http-proxy', 'socks-proxy', 'dns-decider']);
    // The DNS stub asks the decider (fd 5); the capture listener goes to the HTTP proxy (fd 3).
    expect(helper.bridges).toEqual([
      { kind: 'tcp-to-unix', port: 3128, fd: 3 },
      { kind: 'tcp-to-unix', port: 1080, fd: 4 },
      { kind: 'dns', port: 53, fd: 5 },
      { kind: 'capture', port: 15001, fd: 3 },
    ]);
    expect(plan.env).toMatchObject({ HTTPS_PROXY: 'http://127.0.0.1:3128', all_proxy: 'socks5h://127.0.0.1:1080', FENCE_SANDBOX: '1' });
    await Promise.all(plan.services.map((s) => s.start()));
    expect(existsSync(join(dir, 'http.sock')) && existsSync(join(dir, 'socks.sock'))).toBe(true);
    // The helper gets O_PATH descriptors of the sockets, opened once they listen: never their names.
    const [http, socks] = plan.fds.map((f) => (typeof f === 'object' && 'inherit' in f ? readlinkSync(`/proc/self/fd/${f.inherit()}`) : ''));
    expect([http, socks]).toEqual([join(dir, 'http.sock'), join(dir, 'socks.sock')]);
    const events: Violation[] = [];
    kernel.violations.on((v) => events.push(v));
    const s = connect({ path: join(dir, 'http.sock') });
    const reply = collect(s);
    s.write('CONNECT example.com:443 HTTP/1.1\r\n\r\n');
    expect((await reply).toString()).toMatch(/^HTTP\/1\.1 403 /);
    expect(events).toMatchObject([{ source: 'http', action: 'block', detail: 'CONNECT 403 example.com https://example.com:443 (not in network.allowedDomains)' }]);
    expect(kernel.violations.blockedCounts().get('http')).toBe(1);
    // The DNS decider: one answer per name, in order; a refusal is an event with its reason.
    const d = connect({ path: join(dir, 'dns.sock') });
    const answers = new Promise<string>((r) => d.once('data', (b) => r(b.toString())));
    d.write('GITHUB.com\nexample.com\n');
    const got = await answers;
    expect(got === 'allow\ndeny\n' || got.startsWith('allow\n')).toBe(true);
    d.destroy();
    await expect.poll(() => events.filter((e) => e.source === 'dns').map((e) => [e.action, e.target, e.reason])).toEqual([
      ['allow', 'github.com', 'allowed by network.allowedDomains'],
      ['block', 'example.com', 'not in network.allowedDomains'],
    ]);
    await Promise.all(plan.services.map((s) => s.stop()));
    expect(existsSync(join(dir, 'http.sock'))).toBe(false);
  });

  it('hands tunnels to the bridges only when the sandbox says they take them', async () => {
    const upstream = createServer((c) => c.on('error', () => undefined).end('from upstream'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as { port: number }).port;
    const tunnel = async (bridgeHandoff: boolean): Promise<string> => {
      const { plan, kernel, dir } = await prepare({ allowedDomains: ['127.0.0.1'], allowLocalOutbound: true });
      if (bridgeHandoff) helperSession(kernel).hooks.bridgeHandoff.call();
      await Promise.all(plan.services.map((s) => s.start()));
      await kernel.hooks.launch.promise(plan);
      const s = connect({ path: join(dir, 'http.sock'), allowHalfOpen: true });
      const reply = collect(s);
      s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`);
      return (await reply).toString();
    };
    try {
      expect(await tunnel(false)).toBe('HTTP/1.1 200 Connection Established\r\n\r\nfrom upstream');
      // A plain Unix client is no bridge: it gets the reply and the trailer (N = the request's length,
      // uint64 LE, then the marker), and the passed socket is dropped. Without the addon the plugin keeps splicing.
      const n = Buffer.alloc(9);
      n.writeBigUInt64LE(BigInt(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`.length));
      const handedOff = addonBuilt ? `HTTP/1.1 200 Connection Established\r\n\r\n${n.toString('latin1')}` : 'HTTP/1.1 200 Connection Established\r\n\r\nfrom upstream';
      expect(await tunnel(true)).toBe(handedOff);
    } finally {
      upstream.close();
    }
  });

  it('starts the proxies with -m even without allowed domains, so blocks are seen', async () => {
    const { plan } = await prepare({}, { monitor: true });
    expect(plan.services).toHaveLength(2);
  });

  it.runIf(addonBuilt)('forwards -p ports from the host into the sandbox through a listening socket it made, in-N.sock', async () => {
    const port = await deadPort();
    const { plan, helper } = await prepare({}, { ports: [port] });
    const bridge = helper.bridges.find((b) => b.kind === 'unix-to-tcp')!;
    expect(bridge).toMatchObject({ kind: 'unix-to-tcp', port });
    // Stand in for the helper: accept on the listening descriptor it would receive.
    const slot = plan.fds[bridge.fd - 3];
    const inner = createServer((c) => c.end('from inside'));
    await new Promise<void>((r) => inner.listen({ fd: slot && typeof slot === 'object' && 'inherit' in slot ? slot.inherit() : -1 }, r));
    await Promise.all(plan.services.map((s) => s.start()));
    const s = connect({ host: '127.0.0.1', port });
    expect((await collect(s)).toString()).toBe('from inside');
    await new Promise((r) => inner.close(r));
  });

  it('explains a -p port that is already taken on the host', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const { plan } = await prepare({}, { ports: [port] });
    const forward = plan.services.find((s) => s.name === `port-forward:${port}`)!;
    const error = await forward.start().catch((e: unknown) => e);
    expect(isFenceError(error) && error.code).toBe('FLAG_INVALID');
    expect(String((error as Error).message)).toContain(`port ${port} is already in use`);
    await new Promise((r) => taken.close(r));
  });

  it('listens on 127.0.0.1 directly on darwin, with no bridges', async () => {
    const [http, socks] = [await deadPort(), await deadPort()];
    const { plan, helper } = await prepare({ allowedDomains: ['github.com'], httpProxyPort: http, socksProxyPort: socks }, { platform: 'darwin' });
    expect(helper.bridges).toEqual([]);
    await Promise.all(plan.services.map((s) => s.start()));
    const s = connect({ host: '127.0.0.1', port: http });
    const reply = collect(s);
    s.write('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    expect((await reply).toString()).toMatch(/^HTTP\/1\.1 403 [\s\S]*Connection blocked by network allowlist: not in network\.allowedDomains\n$/);
  });
});
