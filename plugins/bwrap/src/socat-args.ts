/**
 * The fallback bridges when the native helper is missing: a `sh -c` wrapper inside the sandbox
 * starts one socat per bridge, waits until each listens (bounded: 2 s, polling /proc/net/tcp and
 * the socket files, no fixed sleep), then execs the command. Each socat is started from a subshell
 * that exits at once, so socat belongs to the sandbox's init, not to the command.
 */
import type { Bridge } from '@fence/core';

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** socat's address pair for one bridge. */
export function socatArgs(bridge: Bridge): [string, string] {
  return bridge.kind === 'tcp-to-unix'
    ? [`TCP-LISTEN:${bridge.port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${bridge.path}`]
    : [`UNIX-LISTEN:${bridge.path},fork,unlink-early`, `TCP:127.0.0.1:${bridge.port}`];
}

/** A shell test that is true once the bridge listens. */
function readyTest(bridge: Bridge): string {
  if (bridge.kind === 'unix-to-tcp') return `[ -S ${q(bridge.path)} ]`;
  // /proc/net/tcp: local 127.0.0.1:port (hex, little-endian address), any remote, state 0A = LISTEN.
  const port = bridge.port.toString(16).toUpperCase().padStart(4, '0');
  return `grep -q '0100007F:${port} 00000000:0000 0A' /proc/net/tcp`;
}

/** The wrapper argv; the command follows it. */
export function bridgeWrapperArgv(socat: string, bridges: readonly Bridge[]): string[] {
  const starts = bridges.map((b) => `(${[socat, ...socatArgs(b)].map(q).join(' ')} </dev/null >/dev/null 2>&1 &)`);
  const ready = bridges.map(readyTest).join(' && ');
  const script = [
    ...starts,
    `i=0; until ${ready}; do i=$((i+1)); [ $i -ge 200 ] && { echo 'fence: proxy bridges did not start within 2 s' >&2; exit 125; }; sleep 0.01; done`,
    'exec "$@"',
  ].join('\n');
  return ['/bin/sh', '-c', script, 'fence-bridges'];
}
