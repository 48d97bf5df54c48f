/**
 * `fence check`: runs real attacks inside the sandbox built from the current settings and reports
 * which ones the active layers stopped. Each attack is judged by its effect on the host (the file
 * is not there, the server saw no connection), not by the attacker's exit code alone.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Flags } from '../args.js';
import { sandboxFromFlags } from '../sandbox.js';

interface Attack {
  readonly name: string;
  readonly argv: readonly string[];
  /** Whether the attack was stopped, given the command's exit status. */
  readonly stopped: (status: number) => boolean;
}

export async function selfCheck(flags: Flags): Promise<number> {
  const target = mkdtempSync('/var/tmp/fence-check-');
  const server = createServer((s) => {
    reached = true;
    s.destroy();
  });
  let reached = false;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const pwned = join(target, 'pwned');
  const attacks: Attack[] = [
    { name: 'write outside the allowed paths', argv: ['sh', '-c', `echo x > ${pwned}`], stopped: () => !existsSync(pwned) },
    { name: 'reach a host service directly', argv: ['bash', '-c', `echo x > /dev/tcp/127.0.0.1/${port}`], stopped: () => !reached },
    { name: 'signal a host process', argv: ['kill', '-0', String(process.pid)], stopped: (s) => s !== 0 },
    { name: 'create a user namespace', argv: ['unshare', '-U', 'true'], stopped: (s) => s !== 0 },
    { name: 'mount a filesystem', argv: ['mount', '-t', 'tmpfs', 'none', '/mnt'], stopped: (s) => s !== 0 },
    {
      name: 'ptrace (PTRACE_TRACEME)',
      argv: ['python3', '-c', 'import ctypes,sys; sys.exit(0 if ctypes.CDLL(None).ptrace(0,0,0,0)==0 else 1)'],
      stopped: (s) => s !== 0,
    },
  ];
  const sandbox = await sandboxFromFlags(flags);
  let failures = 0;
  try {
    for (const a of attacks) {
      const status = await sandbox.run(a.argv, { stdio: ['ignore', 'ignore', 'ignore'] });
      const ok = status !== 127 && a.stopped(status);
      if (status === 127) process.stdout.write(`  ○ ${a.name}: not tested (${a.argv[0]} is not installed)\n`);
      else process.stdout.write(`  ${ok ? '✓ stopped' : '✗ NOT stopped'}: ${a.name}\n`);
      if (status !== 127 && !ok) failures++;
    }
  } finally {
    await sandbox.close();
    server.close();
    rmSync(target, { recursive: true, force: true });
  }
  process.stdout.write(failures === 0 ? 'fence check: every attack was stopped\n' : `fence check: ${failures} attack(s) NOT stopped\n`);
  return failures === 0 ? 0 : 1;
}
