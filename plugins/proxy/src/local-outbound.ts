/**
 * network.allowLocalOutboundPorts: the host side of one listed port. The in-sandbox helper listens
 * on the sandbox's 127.0.0.1:<port> and connects each client to this Unix socket (through a
 * descriptor, never a path); this service connects it to the host's own 127.0.0.1:<port>, or to
 * [::1]:<port> when nothing listens there (a dev server bound to "localhost"). The target is fixed
 * here: nothing the client sends chooses another host or port. Nothing is read from the client
 * before the connection stands, so when the bridge takes handoffs the connected socket goes to the
 * bridge and the bytes never pass through Node.
 */
import { createServer, type Socket } from 'node:net';
import { SocketSet, trackedService, type ListenTarget, type TunnelProxy } from './listener.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, type ViolationSink } from './options.js';
import { connectUpstream, describeError, handOff, splice, type FdSender } from './tunnel.js';

export interface LocalOutboundOptions {
  /** The host loopback port every connection goes to. */
  readonly port: number;
  readonly listen: ListenTarget;
  readonly violations?: ViolationSink;
  readonly now?: () => number;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
}

const LOOPBACK = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
] as const;

/** Creates the service for one port; a client whose port has no listener on the host is closed. */
export function createLocalOutbound(options: LocalOutboundOptions): TunnelProxy {
  const sockets = new SocketSet();
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const target = `localhost:${options.port}`;
  let handoff: FdSender | undefined;
  const report = (action: 'allow' | 'block', reason: string): void =>
    options.violations?.emit({ time: now(), source: 'local', action, target, process: '', pid: 0, reason, detail: `connect ${target}${action === 'block' ? ` (${reason})` : ''}` });

  // Paused: no byte is read from the client, so a handoff loses nothing (the bridge re-sends from 0).
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client: Socket) => {
    client.on('error', () => client.destroy());
    connectUpstream(LOOPBACK, options.port, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS).then(
      (upstream) => {
        sockets.add(upstream);
        report('allow', 'allowed by network.allowLocalOutboundPorts');
        if (client.destroyed) return void upstream.destroy();
        if (handoff && handOff(client, upstream, new Uint8Array(0), handoff)) return;
        client.resume();
        splice(client, upstream, idle);
      },
      (e: unknown) => {
        report('block', `upstream unreachable: nothing answers on the host's 127.0.0.1:${options.port} or [::1]:${options.port} (${describeError(e)})`);
        client.destroy();
      },
    );
  });
  const service = trackedService(`local-outbound:${options.port}`, server, options.listen, sockets);
  return Object.assign(service, { enableHandoff: (send: FdSender) => void (handoff = send) });
}
