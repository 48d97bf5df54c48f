/**
 * @fence/plugin-proxy: the network layer. The sandbox has no route out; the HTTP and SOCKS5
 * proxies here, on the host, are the only way to the network, and they let through only what
 * network.allowedDomains allows. On Linux they listen on Unix sockets in the session's runtime
 * directory, bridged into the sandbox by the in-sandbox helper; on macOS on 127.0.0.1 directly.
 * When the helper runs the bridges (plan.bridgeHandoff), an allowed tunnel is handed to its bridge
 * once connected, so the bytes no longer pass through Node.
 */
import { join } from 'node:path';
import {
  definePlugin,
  errors,
  note,
  parseUpstreamProxy,
  PrepareStage,
  Tokens,
  type Kernel,
  type LaunchPlan,
} from '@fence/core';
import { prepareLocalOutbound } from './local-outbound-plan.js';
import { createHttpProxy } from './http-proxy.js';
import { describeTarget, explained, type TunnelProxy } from './listener.js';
import { inboundListener, pinListeningSocket } from './host-sockets.js';
import { loadAddon, loadFdSender } from './native.js';
import {
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
import { createSocksProxy } from './socks-proxy.js';

export * from './address-guard.js';
export * from './filter.js';
export * from './http-message.js';
export * from './http-proxy.js';
export * from './local-outbound.js';
export { describeTarget, type ListenTarget, type ProxyServer, type TunnelProxy } from './listener.js';
export * from './network-plan.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, formatTarget, type ProxyOptions, type ViolationSink } from './options.js';
export * from './port-forward.js';
export * from './socks-protocol.js';
export * from './socks-proxy.js';
export { connectToUpstream, openTunnel } from './upstream.js';
export { handOff, splice, type FdSender } from './tunnel.js';

const LAYER = 'proxy';


/** Returns the tunnel proxies it created (none when the sandbox has no network). */
async function prepare(kernel: Kernel, plan: LaunchPlan): Promise<TunnelProxy[]> {
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
    plan.helper.bridges.push(...refusalBridges(network));
    note(plan, LAYER, 'no allowed domains (and no -m, -d or -p): proxies not started; the helper refuses every request on the proxy ports');
    return [];
  }
  const clock = kernel.resolve(Tokens.Clock);
  const common = { rules: network, violations: kernel.resolve(Tokens.Violations), now: () => clock.now() };
  const dir = linux ? plan.runtimeDir() : '';
  const http = createHttpProxy({
    ...common,
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
    plan.helper.bridges.push(...proxyBridges(network, h.fd, s.fd));
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
  const listenUnix = (await loadAddon())?.listenUnix;
  if (!listenUnix) throw errors.nativeMissing('-p (a listening socket the sandbox cannot replace)');
  for (const port of options.ports) {
    const inbound = inboundListener(plan, listenUnix, join(dir, inboundSocket(port)));
    const forward = createPortForward({ port, path: inbound.connectPath });
    const inUse = (e: unknown): Error =>
      (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? errors.flagInvalid('-p', `port ${port} is already in use on the host's 127.0.0.1; stop what uses it or choose another port`)
        : errors.pluginFailed(LAYER, `start of ${forward.name}`, e);
    plan.services.push(explained(forward, inUse));
    note(plan, LAYER, `-p ${port}: host 127.0.0.1:${port} → sandbox 127.0.0.1:${port}`);
    plan.helper.bridges.push(inboundBridge(port, inbound.fd));
  }
  return [http, socks];
}

/** After prepare: hands tunnels to the bridges when the sandbox plugin said they take them. */
async function launch(kernel: Kernel, plan: LaunchPlan, tunnels: readonly TunnelProxy[]): Promise<void> {
  if (!plan.bridgeHandoff || tunnels.length === 0) return;
  const send = await loadFdSender();
  const logger = kernel.resolve(Tokens.Logger);
  if (!send) return logger.debug(LAYER, 'tunnel handoff off: the @fence/native addon is not built; tunnels relay through Node');
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
    const tunnels = new WeakMap<LaunchPlan, TunnelProxy[]>();
    kernel.hooks.prepare.tapPromise({ name: LAYER, stage: PrepareStage.SERVICES }, async (plan, report) => {
      const local = prepareLocalOutbound(kernel, plan, report);
      tunnels.set(plan, [...(await prepare(kernel, plan)), ...local]);
    });
    kernel.hooks.launch.tapPromise(LAYER, (plan) => launch(kernel, plan, tunnels.get(plan) ?? []));
  },
});

export default proxyPlugin;
