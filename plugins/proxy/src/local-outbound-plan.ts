/**
 * What network.allowLocalOutboundPorts adds to the launch plan (Linux): for each port, the host
 * service of local-outbound.ts on a Unix socket in the runtime directory, pinned by descriptor, and
 * the helper's bridge from the sandbox's 127.0.0.1:port to it.
 */
import { join } from 'node:path';
import { errors, note, Tokens, type DetectionReport, type Kernel, type LaunchPlan } from '@fence/core';
import { pinListeningSocket } from './host-sockets.js';
import { explained, type TunnelProxy } from './listener.js';
import { createLocalOutbound } from './local-outbound.js';
import { localOutboundBridge, localOutboundSocket } from './network-plan.js';

const LAYER = 'proxy';

/**
 * network.allowLocalOutboundPorts on Linux: for each port, a host service on a Unix socket that
 * connects to the host's loopback port, bridged to the sandbox's 127.0.0.1:port. Without a network
 * namespace the sandbox shares the host's loopback already (Landlock then limits connect to the
 * listed ports), and a bridge could not listen where the host's server does.
 */
export function prepareLocalOutbound(kernel: Kernel, plan: LaunchPlan, report: DetectionReport): TunnelProxy[] {
  const network = plan.policy.network;
  const ports = network.allowLocalOutbound ? network.allowLocalOutboundPorts : [];
  if (kernel.options.platform !== 'linux') return [];
  if (ports.length === 0) {
    if (network.allowLocalOutbound) note(plan, LAYER, "allowLocalOutbound: no host loopback port is reachable from the sandbox's own 127.0.0.1; list them in network.allowLocalOutboundPorts");
    return [];
  }
  const clash = kernel.options.ports.find((p) => ports.includes(p));
  if (clash !== undefined) throw errors.flagInvalid('-p', `port ${clash} is in network.allowLocalOutboundPorts (the host's port, reached from inside); choose one or the other`);
  if (report.get('bwrap')?.facts?.['netns'] === false) {
    note(plan, LAYER, `allowLocalOutboundPorts ${ports.join(', ')}: no network namespace, so the sandbox reaches the host's loopback directly`);
    return [];
  }
  const clock = kernel.resolve(Tokens.Clock);
  const violations = kernel.resolve(Tokens.Violations);
  return ports.map((port) => {
    const path = join(plan.runtimeDir(), localOutboundSocket(port));
    const service = createLocalOutbound({ port, listen: { path }, violations, now: () => clock.now() });
    const pinned = pinListeningSocket(plan, explained(service, (e) => errors.pluginFailed(LAYER, `start of ${service.name}`, e)), path);
    plan.services.push(pinned.service);
    plan.helper.bridges.push(localOutboundBridge(port, pinned.fd));
    note(plan, LAYER, `allowLocalOutboundPorts: sandbox 127.0.0.1:${port} → host 127.0.0.1:${port} (or [::1]:${port})`);
    return service;
  });
}
