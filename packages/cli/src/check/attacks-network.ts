/**
 * Attacks on the network policy and on Fence's own machinery: direct TCP and UDP, host Unix
 * sockets, a destination the proxies must refuse, and the relays themselves (SPEC §4.1: nothing
 * Fence uses can be replaced from inside). Every target is a server of this check on 127.0.0.1 or
 * in its host directory, and the verdict is whether that server saw anything.
 */
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { landed, needsPython, python, sh, type Attack, type CheckContext, type Relay } from './attack.js';
import { proxyAllows, unixSocketAllowed } from './policy-allows.js';

const relay = (ctx: CheckContext, name: string): Relay | undefined => ctx.relays.find((r) => r.name === name);
const noRelay = (name: string) => (ctx: CheckContext): string | undefined =>
  relay(ctx, name) ? undefined : `no ${name} proxy runs in this sandbox: the policy allows no domain`;

/** Opens fd 3 to a port inside the sandbox, or ends the attack (nothing listens: nothing to attack). */
const localRelays = (ctx: CheckContext): Relay[] => ctx.relays.filter((r) => r.name.startsWith('out-'));
const open3 = (port: number) => `exec 3<>/dev/tcp/127.0.0.1/${port} || exit 0`;

const httpConnect = (ctx: CheckContext): string => {
  const target = `127.0.0.1:${ctx.host.tcpPort}`;
  return `${open3(relay(ctx, 'http')!.port)}
printf 'CONNECT ${target} HTTP/1.1\\r\\nHost: ${target}\\r\\n\\r\\n' >&3
timeout 3 head -n 1 <&3`;
};

/** SOCKS5: no authentication, then CONNECT to 127.0.0.1:<port> by IPv4 address. */
const socksConnect = (ctx: CheckContext): string => {
  const port = ctx.host.tcpPort;
  const hex = (n: number) => `\\x${n.toString(16).padStart(2, '0')}`;
  return `${open3(relay(ctx, 'socks')!.port)}
printf '\\x05\\x01\\x00' >&3
timeout 3 head -c 2 <&3 >/dev/null
printf '\\x05\\x01\\x00\\x01\\x7f\\x00\\x00\\x01${hex(port >> 8)}${hex(port & 0xff)}' >&3
timeout 3 head -c 10 <&3 | od -An -tx1`;
};

/**
 * Replaces a relay's socket with a link to the host socket of the check: at its host path, and
 * wherever the sandbox sees a runtime directory of Fence's (a fix may mount it elsewhere).
 */
const swap = (ctx: CheckContext, r: Relay): string =>
  `for p in ${sh(r.path)} /tmp/fence-*/${sh(basename(r.path))}; do { [ -e "$p" ] || [ -L "$p" ]; } && rm -f "$p" && ln -s ${sh(ctx.host.socketPath)} "$p"; done`;

/** Issue 9, finding 1: replace the relay's socket with a link to a host socket, then use the relay. */
const relaySwap = (name: string): Attack => ({
  name: `redirect Fence's ${name} relay to a host socket (replace ${name}.sock)`,
  covers: "Fence's own relays",
  untestable: noRelay(name),
  script: (ctx) => {
    const r = relay(ctx, name)!;
    return `${swap(ctx, r)}
${open3(r.port)}
timeout 3 head -n 1 <&3`;
  },
  judge: { kind: 'effect', happened: (ctx) => ctx.host.hits.unix > 0 },
});

/** A host client of 127.0.0.1:port: connects, sends a byte, waits (briefly) for the other end. */
function hostClient(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end('x'));
    const done = () => (socket.destroy(), resolve());
    socket.on('error', done).on('close', done).setTimeout(3000, done);
  });
}

/**
 * Issue 9, finding 1 with -p: replace the socket the host forwarder of 127.0.0.1:N connects to,
 * then be a host client of 127.0.0.1:N. All -p ports are swapped in this one attack.
 */
const inboundSwap: Attack = {
  name: "redirect Fence's -p forwarder to a host socket (replace in-<port>.sock)",
  covers: "Fence's own relays",
  untestable: (ctx) => (ctx.inbound.length > 0 ? undefined : 'no -p port is forwarded in this run (fence -p <port> check tests it)'),
  script: (ctx) => ctx.inbound.map((r) => swap(ctx, r)).join('\n'),
  provoke: async (ctx) => void (await Promise.all(ctx.inbound.map((r) => hostClient(r.port)))),
  judge: { kind: 'effect', happened: (ctx) => ctx.host.hits.unix > 0 },
};

/** The same swap for the host loopback ports (network.allowLocalOutboundPorts): every one at once. */
const localSwap: Attack = {
  name: "redirect Fence's host loopback relays to a host socket (replace out-<port>.sock)",
  covers: "Fence's own relays",
  untestable: (ctx) => (localRelays(ctx).length > 0 ? undefined : 'no host loopback port is listed (network.allowLocalOutboundPorts)'),
  script: (ctx) => localRelays(ctx).map((r) => `${swap(ctx, r)}\n(exec 3<>/dev/tcp/127.0.0.1/${r.port} && timeout 3 head -n 1 <&3)`).join('\n'),
  judge: { kind: 'effect', happened: (ctx) => ctx.host.hits.unix > 0 },
};

const litter = (ctx: CheckContext) => join(ctx.runtimeDir!, 'fence-check-litter');

/** Ordered: the relay attacks break the relays they swap, so they run last. */
export const networkAttacks: readonly Attack[] = [
  {
    name: 'reach a host service directly',
    covers: 'direct TCP (network namespace; Landlock TCP ports without one)',
    script: (ctx) => `echo x > /dev/tcp/127.0.0.1/${ctx.host.tcpPort}`,
    judge: { kind: 'effect', happened: (ctx) => ctx.host.hits.tcp > 0 },
  },
  {
    name: 'send UDP to a host service directly',
    covers: 'direct UDP (network namespace)',
    script: (ctx) => `echo x > /dev/udp/127.0.0.1/${ctx.host.udpPort}`,
    judge: { kind: 'effect', happened: (ctx) => ctx.host.hits.udp > 0 },
  },
  {
    name: 'connect to a host Unix socket',
    covers: 'network.allowUnixSockets (seccomp AF_UNIX, Landlock)',
    untestable: needsPython,
    allowedBy: (ctx) => unixSocketAllowed(ctx.policy, ctx.host.socketPath),
    script: (ctx) => python(ctx, `import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect(${JSON.stringify(ctx.host.socketPath)})\nprint(s.recv(64))`),
    judge: { kind: 'effect', happened: (ctx) => ctx.host.hits.unix > 0 },
  },
  {
    name: 'CONNECT to a refused destination through the HTTP proxy',
    covers: 'network.allowedDomains (HTTP proxy)',
    untestable: noRelay('http'),
    allowedBy: (ctx) => proxyAllows(ctx.policy, '127.0.0.1', ctx.host.tcpPort),
    script: httpConnect,
    judge: { kind: 'effect', happened: (ctx) => ctx.host.hits.tcp > 0 },
  },
  {
    name: 'CONNECT to a refused destination through the SOCKS5 proxy',
    covers: 'network.allowedDomains (SOCKS5 proxy)',
    untestable: noRelay('socks'),
    allowedBy: (ctx) => proxyAllows(ctx.policy, '127.0.0.1', ctx.host.tcpPort),
    script: socksConnect,
    judge: { kind: 'effect', happened: (ctx) => ctx.host.hits.tcp > 0 },
  },
  {
    name: "write host storage through Fence's runtime directory",
    covers: "no writable host storage besides allowWrite (Fence's own machinery)",
    untestable: (ctx) => (ctx.runtimeDir ? undefined : 'the sandbox has no runtime directory: no proxy runs'),
    // Also wherever the sandbox sees the runtime directory, in case a fix mounts it elsewhere.
    script: (ctx) => `for d in ${sh(ctx.runtimeDir!)} /tmp/fence-*; do echo pwned > "$d/fence-check-litter"; done 2>/dev/null`,
    judge: { kind: 'effect', happened: (ctx) => landed(litter(ctx)) },
  },
  relaySwap('http'),
  relaySwap('socks'),
  localSwap,
  inboundSwap,
];
