/**
 * `runtimeExecPolicy` "argv": the verdict on one execve inside the sandbox, as the exec supervisor
 * read it. Every name the program goes by is checked (argv[0], the file's own name, and the
 * denied program it is a copy of), so `exec -a x git push` and a renamed copy of git are git.
 * A refusal is a violation with the matched rule.
 */
import type { ExecRequest, Policy, Violation } from '@fence/core';
import { findCommandDenial } from './command-policy.js';
import { denialRule, type CommandDenial } from './command-rules.js';
import { baseName } from './command-views.js';
import type { ProgramIdentity } from './program-identity.js';

/** Scripts whose interpreter is a script, as deep as Linux follows them (BINPRM_MAX_RECURSION). */
const MAX_INTERPRETERS = 4;

export function execDenial(req: ExecRequest, policy: Pick<Policy, 'command' | 'ssh'>, identity: ProgramIdentity, depth = 0): CommandDenial | undefined {
  const argv = req.argv.length > 0 ? req.argv : [req.path];
  const programs = req.unresolved === undefined ? identity.identify(req.file) : undefined;
  // A file that cannot be read could be a copy of a denied program: refused while programs are denied.
  if (programs === undefined && identity.denies) {
    const why = req.unresolved ?? 'it cannot be read';
    return { command: argv.join(' '), rule: `the file it runs (${req.path}) cannot be identified as the caller sees it (${why}); refused while command rules deny programs`, field: 'command.runtimeExecPolicy' };
  }
  const names = new Set([baseName(argv[0]!), baseName(req.path), ...(programs ?? [])]);
  for (const program of names) {
    const denial = findCommandDenial(argv, policy, program);
    if (denial) return denial;
  }
  // A `#!` script: the kernel runs its interpreter itself (no second execve to see), with the
  // line's argument and the script's path in front of the arguments.
  const line = depth < MAX_INTERPRETERS ? identity.interpreterOf(req.file) : undefined;
  if (line === undefined) return undefined;
  const interpreter = line[0]!;
  const proc = /^\/proc\/\d+/.exec(req.file)?.[0];
  const file = proc === undefined ? interpreter : `${proc}/${interpreter.startsWith('/') ? 'root' : 'cwd/'}${interpreter}`;
  return execDenial({ ...req, path: interpreter, file, argv: [...line, req.path, ...argv.slice(1)] }, policy, identity, depth + 1);
}

/** `[fence:command] 14:03:22 ✗ exec git push origin: command.deny rule "git push" (bash, pid=4711)` */
export function execViolation(req: ExecRequest, denial: CommandDenial, time: number): Violation {
  const reason = denialRule(denial);
  return {
    time,
    source: 'command',
    action: 'block',
    target: denial.command,
    process: req.process,
    pid: req.pid,
    reason,
    detail: `exec ${denial.command}: ${reason} (${req.process || '?'}, pid=${req.pid})`,
  };
}
