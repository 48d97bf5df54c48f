# A real terminal for the end-to-end tests (e2e/src/terminal.ts): runs argv on a new
# pseudo-terminal, as a session leader whose controlling terminal it is (like a shell in a terminal
# window), and relays its output to stdout. Commands on stdin, one per line:
#   w <base64>       type these bytes
#   r <rows> <cols>  resize the window (TIOCSWINSZ: the kernel sends SIGWINCH to the foreground)
# Reports on stderr, one per line: "pid N", "stty <stty -g>" before the start and after the exit,
# then "exit <status>" (negative: killed by that signal).
import base64, fcntl, os, select, struct, subprocess, sys, termios

rows, cols, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
master, slave = os.openpty()
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def report(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def stty():
    return subprocess.run(["stty", "-g"], stdin=slave, capture_output=True, text=True).stdout.strip()


report("stty " + stty())
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.closerange(3, 256)
    os.execvp(argv[0], argv)
report(f"pid {pid}")

status, quiet = None, 0
stdin_open = True
while status is None or quiet < 4:
    fds = [master] + ([0] if stdin_open else [])
    ready, _, _ = select.select(fds, [], [], 0.05)
    if master in ready:
        quiet = 0
        data = os.read(master, 65536)
        os.write(1, data)
    elif status is not None:
        quiet += 1  # the slave stays open here: the end of output is a quiet moment
    if 0 in ready:
        line = sys.stdin.readline()
        if not line:
            stdin_open = False
        elif line.startswith("w "):
            os.write(master, base64.b64decode(line[2:]))
        elif line.startswith("r "):
            r, c = map(int, line[2:].split())
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
report("stty " + stty())
report(f"exit {status}")
