import { describe, expect, it } from 'vitest';
import { bridgeWrapperArgv, socatArgs } from '../src/socat-args.js';

describe('socatArgs', () => {
  it('listens on the sandbox loopback for tcp-to-unix and on the socket for unix-to-tcp', () => {
    expect(socatArgs({ kind: 'tcp-to-unix', port: 3128, path: '/tmp/f/http.sock' })).toEqual([
      'TCP-LISTEN:3128,bind=127.0.0.1,fork,reuseaddr',
      'UNIX-CONNECT:/tmp/f/http.sock',
    ]);
    expect(socatArgs({ kind: 'unix-to-tcp', path: '/tmp/f/p8080.sock', port: 8080 })).toEqual([
      'UNIX-LISTEN:/tmp/f/p8080.sock,fork,unlink-early',
      'TCP:127.0.0.1:8080',
    ]);
  });
});

describe('bridgeWrapperArgv', () => {
  it('starts each bridge detached, waits for LISTEN with a 2 s cap, then execs the command', () => {
    const [shell, flag, script, name] = bridgeWrapperArgv('/usr/bin/socat', [{ kind: 'tcp-to-unix', port: 3128, path: '/tmp/f/h.sock' }]);
    expect([shell, flag, name]).toEqual(['/bin/sh', '-c', 'fence-bridges']);
    expect(script).toBe(
      [
        "('/usr/bin/socat' 'TCP-LISTEN:3128,bind=127.0.0.1,fork,reuseaddr' 'UNIX-CONNECT:/tmp/f/h.sock' </dev/null >/dev/null 2>&1 &)",
        "i=0; until grep -q '0100007F:0C38 00000000:0000 0A' /proc/net/tcp; do i=$((i+1)); [ $i -ge 200 ] && { echo 'fence: proxy bridges did not start within 2 s' >&2; exit 125; }; sleep 0.01; done",
        'exec "$@"',
      ].join('\n'),
    );
  });
});
