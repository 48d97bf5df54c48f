'use strict';
// fence-launch --tty on a real terminal: a pseudo-terminal that Python's pty module allocates, 20
// rows by 70 columns, in raw mode as Fence sets the user's terminal.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { describe, it } = require('node:test');
const { emptyPlan, encodeHelperPlan, helper, python } = require('./helpers.js');

const skip = helper === undefined && 'fence-launch is not built (npm run build)';
const PLAN = Buffer.from(encodeHelperPlan(emptyPlan())).toString('base64');

const DRIVER = `
import fcntl, os, pty, struct, sys, termios, tty
pid, fd = pty.fork()
if pid == 0:
    tty.setraw(0)  # as Fence does on the host
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 70, 0, 0))
    os.environ["OUTER_TTY"] = os.ttyname(0)
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace") + "exit %d\\n" % os.waitstatus_to_exitcode(status))
`;

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** Runs `fence-launch --tty -- script` on a terminal; returns what the terminal showed and the status. */
function onTerminal(script, { asNobody = false } = {}) {
  const argv = [...(asNobody ? NOBODY : []), helper, '--tty', '--', 'sh', '-c', script];
  const r = spawnSync(python, ['-c', DRIVER, ...argv], { env: { PATH: process.env.PATH, FENCE_LAUNCH_PLAN: PLAN }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [, output, status] = /^([\s\S]*)exit (-?\d+)\n$/.exec(r.stdout) ?? [];
  return { output, status: Number(status) };
}

describe('fence-launch --tty', { skip }, () => {
  it('refuses to start without a terminal (125) and never runs the command', () => {
    const r = spawnSync(helper, ['--tty', '--', 'sh', '-c', 'echo ran'], { env: { FENCE_LAUNCH_PLAN: PLAN }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 125);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^fence-launch: tty: stdin and stdout or stderr must be a terminal: /);
  });

  it('runs the command as the session leader and foreground group of a new terminal of the window size', () => {
    const probe = "import os; print(os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp(), os.ttyname(0) != os.environ['OUTER_TTY'])";
    const r = onTerminal(`stty size; exec ${python} -c "${probe}"`);
    assert.equal(r.output, '20 70\r\nTrue True True\r\n');
    assert.equal(r.status, 0);
  });

  it('exits with the command status, 128+N when signal N killed it', () => {
    assert.equal(onTerminal('exit 7').status, 7);
    assert.equal(onTerminal('kill -KILL $$').status, 137);
  });

  it('relays output written just before the command exits', () => {
    const r = onTerminal('head -c 300000 /dev/zero | tr "\\0" x; echo; echo last');
    assert.equal(r.output.length, 300000 + '\r\nlast\r\n'.length);
    assert.ok(r.output.endsWith('last\r\n'));
  });

  it('is non-dumpable, so the command (uid 65534) cannot reach its descriptors', () => {
    const r = onTerminal('for p in $$ $PPID; do ls /proc/$p/fd >/dev/null 2>&1 && echo reachable || echo refused; done', { asNobody: true });
    assert.equal(r.output, 'reachable\r\nrefused\r\n');
  });
});
