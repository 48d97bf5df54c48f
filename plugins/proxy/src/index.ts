/**
 * @fence/plugin-proxy: the network layer. The sandbox has no route out; the HTTP and SOCKS5
 * proxies here, on the host, are the only way to the network, and they let through only what
 * network.allowedDomains allows. On Linux they listen on Unix sockets in the session's runtime
 * directory, bridged into the sandbox by the in-sandbox helper; on macOS on 127.0.0.1 directly.
 * When the helper runs the bridges (the sandbox calls the helper session's bridgeHandoff hook), an
 * allowed tunnel is handed to its bridge once connected, so the bytes no longer pass through Node.
 */
import { join } from 'node:path';
import {
  addFd,
  definePlugin,
  errors,
  note,
  parseUpstreamProxy,
  PrepareStage,
  Tokens,
  type LaunchPlan,
  type PluginHost,
  type ProxyServiceOptions,
} from '@fence/core';
import { addonWith, CAPTURE_PORT, helperSession, nativeMissing } from '@fence/linux-helper';
import { prepareLocalOutbound } from './local-outbound-plan.js';
import { createDnsDecider } from './dns-decider.js';
import { createHttpProxy } from './http-proxy.js';
import { describeTarget, explained, type TunnelProxy } from './listener.js';
import { inboundListener, pinListeningSocket } from './host-sockets.js';
import {
  captureBridges,
  captureWanted,
  DNS_SOCKET,
  HTTP_SOCKET,
  inboundBridge,
  inboundSocket,
  noProxyEnvironment,
  proxiesNeeded,
  proxyBridges,
  proxyEnvironment,
  refusalBridges,
  SOCKS_SOCKET,
} from './network-plan.js';
import { createPortForward } from './port-forward.js';
import { leaseProxyService, type ServiceSocket } from './service-client.js';
import { createSocksProxy } from './socks-proxy.js';
import type { FdSender } from './tunnel.js';

/** The addon's listening Unix socket at `path` (close-on-exec); its descriptor. */
type ListenUnix = (path: string, backlog: number) => number;

export * from './address-guard.js';
export * from './dns-decider.js';
export * from './filter.js';
export * from './http-message.js';
export * from './http-proxy.js';
export * from './local-outbound.js';
export { describeTarget, type ListenTarget, type ProxyServer, type TunnelProxy } from './listener.js';
export * from './network-plan.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, formatTarget, type ProxyOptions, type ViolationSink } from './options.js';
export * from './port-forward.js';
export { serveProxies } from './service.js';
export { SERVICE_IDLE_MS, serviceKey } from './service-client.js';
export * from './socks-protocol.js';
export * from './socks-proxy.js';
export { connectToUpstream, openTunnel } from './upstream.js';
export { handOff, splice, type FdSender } from './tunnel.js';

const LAYER = 'proxy';


/** Returns the tunnel proxies it created (none when the sandbox has no network). */
async function prepare(kernel: PluginHost, plan: LaunchPlan): Promise<TunnelProxy[]> {
  const network = plan.policy.network;
  const { options } = kernel;
  const linux = options.platform === 'linux';
  if (!proxiesNeeded(network, options)) {
    if (!linux) {
      Object.assign(plan.env, noProxyEnvironment());
      note(plan, LAYER, 'no allowed domains (and no -m, -d or -p): proxies not started; the sandbox has no network');
      return [];
    }
    // No host proxy: the helper itself answers every request with the refusal, at once.
    Object.assign(plan.env, proxyEnvironment(network));
    helperSession(kernel).plan.bridges.push(...refusalBridges(network));
    note(plan, LAYER, 'no allowed domains (and no -m, -d or -p): proxies not started; the helper refuses every request on the proxy ports');
    return [];
  }
  if (linux && options.proxyService !== undefined) {
    const leased = await leaseService(kernel, plan, options.proxyService);
    if (leased) return [];
  }
  const clock = kernel.resolve(Tokens.Clock);
  const common = { rules: network, violations: kernel.resolve(Tokens.Violations), now: () => clock.now() };
  const dir = linux ? plan.runtimeDir() : '';
  const http = createHttpProxy({
    ...common,
    // -d shows every allowed request with its status: the proxy then relays them all itself.
    reportEveryRequest: options.debug,
    listen: linux ? { path: join(dir, HTTP_SOCKET) } : { host: '127.0.0.1', port: network.httpProxyPort },
  });
  const socks = createSocksProxy({
    ...common,
    listen: linux ? { path: join(dir, SOCKS_SOCKET) } : { host: '127.0.0.1', port: network.socksProxyPort },
  });
  const services = [http, socks].map((proxy) => explained(proxy, (e) => errors.pluginFailed(LAYER, `start of ${proxy.name}`, e)));
  if (linux) {
    const [h, s] = [pinListeningSocket(plan, services[0]!, join(dir, HTTP_SOCKET)), pinListeningSocket(plan, services[1]!, join(dir, SOCKS_SOCKET))];
    plan.services.push(h.service, s.service);
    helperSession(kernel).plan.bridges.push(...proxyBridges(network, h.fd, s.fd));
    if (captureWanted(network)) {
      const decider = createDnsDecider({ ...common, listen: { path: join(dir, DNS_SOCKET) } });
      const d = pinListeningSocket(plan, explained(decider, (e) => errors.pluginFailed(LAYER, `start of ${decider.name}`, e)), join(dir, DNS_SOCKET));
      plan.services.push(d.service);
      helperSession(kernel).plan.bridges.push(...captureBridges(h.fd, d.fd));
      note(plan, LAYER, `DNS stub on 127.0.0.53 in the sandbox: allowed names get a capture address (127.64.0.0/10, any port → CONNECT through the HTTP proxy)`);
    }
  } else {
    plan.services.push(...services);
  }
  Object.assign(plan.env, proxyEnvironment(network));
  note(plan, LAYER, `HTTP proxy on ${describeTarget(http.target)} (127.0.0.1:${network.httpProxyPort} in the sandbox)`);
  note(plan, LAYER, `SOCKS5 proxy on ${describeTarget(socks.target)} (127.0.0.1:${network.socksProxyPort} in the sandbox)`);
  note(plan, LAYER, `allowed: ${network.allowedDomains.join(', ') || '(none)'}; denied: ${network.deniedDomains.join(', ') || '(none)'}`);
  if (network.upstreamProxy !== undefined) note(plan, LAYER, `other names: forwarded to ${parseUpstreamProxy(network.upstreamProxy).display} (network.defaultAction "proxy")`);

  if (options.ports.length === 0) return [http, socks];
  if (!linux) {
    note(plan, LAYER, `-p ${options.ports.join(', ')}: the sandbox shares the host's network here; nothing to forward`);
    return [http, socks];
  }
  const proxyPorts = [network.httpProxyPort, network.socksProxyPort];
  const clash = options.ports.find((p) => proxyPorts.includes(p));
  if (clash !== undefined) throw errors.flagInvalid('-p', `port ${clash} is the sandbox's proxy port (network.httpProxyPort/socksProxyPort); choose another port`);
  if (captureWanted(network) && options.ports.includes(CAPTURE_PORT)) {
    throw errors.flagInvalid('-p', `port ${CAPTURE_PORT} is the sandbox's capture listener (connections of programs that ignore the proxy variables); choose another port`);
  }
  const addon = await addonWith<{ listenUnix: ListenUnix }>('listenUnix');
  if (!addon) throw nativeMissing('-p (a listening socket the sandbox cannot replace)');
  const listenUnix = addon.listenUnix.bind(addon);
  for (const port of options.ports) {
    const inbound = inboundListener(plan, listenUnix, join(dir, inboundSocket(port)));
    const forward = createPortForward({ port, path: inbound.connectPath });
    const inUse = (e: unknown): Error =>
      (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? errors.flagInvalid('-p', `port ${port} is already in use on the host's 127.0.0.1; stop what uses it or choose another port`)
        : errors.pluginFailed(LAYER, `start of ${forward.name}`, e);
    plan.services.push(explained(forward, inUse));
    note(plan, LAYER, `-p ${port}: host 127.0.0.1:${port} → sandbox 127.0.0.1:${port}`);
    helperSession(kernel).plan.bridges.push(inboundBridge(port, inbound.fd));
  }
  return [http, socks];
}

/**
 * The proxies of the per-user service for this policy (service-client.ts), when the launcher asked
 * for it and it can be used: its sockets pinned as this run's own would be, recorded (path,
 * device, inode) for a launcher that replays the plan, and leased for the run. False when the run
 * must start its own proxies (no addon, a service directory that is not this user's alone).
 */
async function leaseService(kernel: PluginHost, plan: LaunchPlan, service: ProxyServiceOptions): Promise<boolean> {
  const network = plan.policy.network;
  const logger = kernel.resolve(Tokens.Logger);
  const addon = await addonWith<{ tryLock: (fd: number) => boolean }>('tryLock');
  const leased = addon ? await leaseProxyService(service, network, addon.tryLock.bind(addon)) : 'the @fence/native addon is not built';
  if (typeof leased === 'string') {
    logger.debug(LAYER, `proxy service not used: ${leased}; this run starts its own proxies`);
    service.unavailable?.(leased);
    return false;
  }
  plan.cleanup.push(() => leased.release());
  plan.leases.push(leased.lease);
  const pinned = (s: ServiceSocket) => addFd(plan, { inherit: () => s.fd, opened: { path: s.path, kind: 'socket', dev: s.dev, ino: s.ino } });
  const [h, s] = [pinned(leased.http), pinned(leased.socks)];
  const bridges = helperSession(kernel).plan.bridges;
  bridges.push(...proxyBridges(network, h, s));
  if (leased.dns) {
    bridges.push(...captureBridges(h, pinned(leased.dns)));
    note(plan, LAYER, `DNS stub on 127.0.0.53 in the sandbox: allowed names get a capture address (127.64.0.0/10, any port → CONNECT through the HTTP proxy)`);
  }
  Object.assign(plan.env, proxyEnvironment(network));
  note(plan, LAYER, `HTTP and SOCKS5 proxies of the shared proxy service ${leased.http.path} and ${leased.socks.path} (127.0.0.1:${network.httpProxyPort} and :${network.socksProxyPort} in the sandbox)`);
  note(plan, LAYER, `allowed: ${network.allowedDomains.join(', ') || '(none)'}; denied: ${network.deniedDomains.join(', ') || '(none)'}`);
  return true;
}

/** After prepare: hands tunnels to the bridges when the sandbox plugin said they take them. */
async function launch(kernel: PluginHost, tunnels: readonly TunnelProxy[]): Promise<void> {
  if (tunnels.length === 0) return;
  const addon = await addonWith<{ sendFd: FdSender }>('sendFd');
  const logger = kernel.resolve(Tokens.Logger);
  if (!addon) return logger.debug(LAYER, 'tunnel handoff off: the @fence/native addon is not built; tunnels relay through Node');
  const send = addon.sendFd.bind(addon);
  for (const proxy of tunnels) proxy.enableHandoff(send);
  logger.debug(LAYER, 'tunnel handoff on: allowed CONNECT tunnels are relayed by the in-sandbox bridge');
}

export const proxyPlugin = definePlugin({
  name: LAYER,
  platforms: ['linux', 'darwin'],
  provides: ['network'],
  async detect() {
    return {
      status: 'available',
      summary: 'proxy(http,socks5)',
      features: [
        { mark: '✓', name: 'Filtering proxies', value: 'HTTP + SOCKS5', consequence: 'network reachable only through the allowlist' },
      ],
    };
  },
  apply(kernel) {
    let tunnels: TunnelProxy[] = [];
    let handoff = false;
    kernel.hooks.prepare.tapPromise({ name: LAYER, stage: PrepareStage.SERVICES }, async (plan, report) => {
      const local = prepareLocalOutbound(kernel, plan, report);
      tunnels = [...(await prepare(kernel, plan)), ...local];
    });
    // Linux: the sandbox says so at prepare when the helper runs the bridges.
    if (kernel.options.platform === 'linux') helperSession(kernel).hooks.bridgeHandoff.tap(LAYER, () => void (handoff = true));
    kernel.hooks.launch.tapPromise(LAYER, () => (handoff ? launch(kernel, tunnels) : Promise.resolve()));
  },
});

export default proxyPlugin;
