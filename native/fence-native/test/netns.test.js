'use strict';
// fence-launch --netns: the sandbox's network namespace, made before bwrap (src/netns.c).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { describe, it } = require('node:test');
const { helper } = require('./helpers.js');

const skip = helper === undefined && 'fence-launch is not built (npm run build)';
const asNobody = (argv) => (process.getuid() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv] : argv);

// Inside: a listener on the capture port receives a connection made to 127.64.0.9:8443, and
// SO_ORIGINAL_DST (80) names that address; port 53 binds without any capability.
const PROBE = `
import socket, struct
l = socket.socket(); l.bind(("127.0.0.1", 15001)); l.listen()
c = socket.create_connection(("127.64.0.9", 8443), timeout=2)
a, _ = l.accept()
port, ip = struct.unpack("!2xH4s8x", a.getsockopt(socket.SOL_IP, 80, 16))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.53", 53))
print(socket.inet_ntoa(ip), port, open("/proc/self/uid_map").read().split())
`;

describe('fence-launch --netns', { skip }, () => {
  for (const user of process.getuid() === 0 ? ['root', 'nobody'] : ['self']) {
    it(`maps the caller to root of a new network namespace whose capture rule redirects 127.64.0.0/10 (as ${user})`, () => {
      const argv = [helper, '--netns', '15001', '--', 'python3', '-c', PROBE];
      const [cmd, ...args] = user === 'nobody' ? asNobody(argv) : argv;
      const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: '/' });
      assert.equal(r.status, 0, r.stderr);
      const uid = user === 'nobody' ? 65534 : process.getuid();
      assert.equal(r.stdout, `127.64.0.9 8443 ['0', '${uid}', '1']\n`);
      assert.equal(r.stderr, '');
    });
  }

  it('refuses a bad port with the usage and status 125', () => {
    for (const port of ['0', '65536', 'x']) {
      const r = spawnSync(helper, ['--netns', port, '--', 'true'], { encoding: 'utf8' });
      assert.equal(r.status, 125);
      assert.match(r.stderr, /fence-launch --netns PORT -- bwrap/);
    }
  });
});
