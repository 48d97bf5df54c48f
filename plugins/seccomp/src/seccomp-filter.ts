/**
 * The seccomp program: classic BPF over `struct seccomp_data`, generated from seccomp-rules.ts.
 *
 *   1. the architecture must be the expected AUDIT_ARCH, else the process is killed (a foreign
 *      ABI would have other syscall numbers, so no rule would match);
 *   2. on x86_64, x32 syscall numbers (bit 30) kill the process for the same reason;
 *   3. one `jeq` per filtered syscall jumps to its handler or straight to its return value;
 *   4. everything else is allowed.
 * Handlers only read arguments for their own syscall, so the kernel's constant-action cache
 * (5.11+) answers every other syscall without running the program.
 *
 * The rules can also be split in two programs with the same header: with several filters the
 * kernel logs a denial only when the filter that decided it was installed with
 * SECCOMP_FILTER_FLAG_LOG, so the quiet rules go into a filter installed without the flag.
 *
 * With a supervisor (-m), the logged program is replaced by its notify variant: the same rules,
 * each EPERM sent to the supervisor (SECCOMP_RET_USER_NOTIF), which answers EPERM and reports it.
 * Only denials go there: allowed syscalls never leave the kernel.
 */
import type { Policy } from '@fence/core';
import { assemble, BPF, jump, label, stmt, type Item, type Target } from './bpf.js';
import {
  EXEC_RULES,
  ruleTarget,
  seccompRules,
  type ArgTest,
  type SeccompAction,
  type SeccompOptions,
  type SeccompRule,
} from './seccomp-rules.js';
import { AUDIT_ARCH, X32_SYSCALL_BIT, syscallNumber, type SeccompArch, type SyscallName } from '@fence/syscalls';

/** SECCOMP_RET_* from <linux/seccomp.h>. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  ALLOW: 0x7fff0000,
} as const;

export const EPERM = 1;
export const ENOSYS = 38;

/** Offsets in `struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }`. */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  /** The low 32 bits of args[i] (little endian). */
  argLow: (i: number): number => 16 + 8 * i,
} as const;

type Outcome = SeccompAction | 'allow' | 'kill' | 'notify';

const RETURN_VALUE: Readonly<Record<Outcome, number>> = {
  allow: SECCOMP_RET.ALLOW,
  kill: SECCOMP_RET.KILL_PROCESS,
  eperm: SECCOMP_RET.ERRNO | EPERM,
  enosys: SECCOMP_RET.ERRNO | ENOSYS,
  notify: SECCOMP_RET.USER_NOTIF,
  supervise: SECCOMP_RET.USER_NOTIF,
};

/** How a rule's action becomes the program's return value. */
type Route = (action: SeccompAction) => Outcome;
const direct: Route = (action) => action;
/** The supervisor answers EPERM (and only EPERM): every other action stays in the kernel. */
const toSupervisor: Route = (action) => (action === 'eperm' ? 'notify' : action);

const ret = (outcome: Outcome): string => `ret_${outcome}`;
const load = (offset: number) => stmt(BPF.LD | BPF.W | BPF.ABS, offset);

/** Every rule in one filter as `struct sock_filter[]` bytes, e.g. for bwrap `--seccomp`. */
export function buildSeccompProgram(options: SeccompOptions): Uint8Array {
  return assemble(programItems(options.arch, seccompRules(options)));
}

/** The same rules as buildSeccompProgram, in two filters that together decide as it does. */
export interface SeccompPrograms {
  /** Every rule that is not quiet; to install with SECCOMP_FILTER_FLAG_LOG. */
  readonly logged: Uint8Array;
  /** Only the quiet rules, to install without the flag; undefined when no quiet rule applies. */
  readonly quiet?: Uint8Array;
}

/** The filters for the helper: the quiet rules' denials stay out of the kernel log. */
export function splitSeccompPrograms(options: SeccompOptions): SeccompPrograms {
  const rules = seccompRules(options);
  const quiet = rules.filter((r) => r.quiet !== undefined);
  const logged = assemble(programItems(options.arch, rules.filter((r) => r.quiet === undefined)));
  return quiet.length > 0 ? { logged, quiet: assemble(programItems(options.arch, quiet)) } : { logged };
}

/**
 * The logged program's rules with each EPERM sent to a SECCOMP_RET_USER_NOTIF supervisor, which
 * must answer EPERM. It replaces the logged program (never stacked with it: the kernel would let
 * the logged filter's ERRNO win, and nothing would reach the supervisor).
 */
export function notifySeccompProgram(options: SeccompOptions): Uint8Array {
  const rules = seccompRules(options).filter((r) => r.quiet === undefined);
  const exec = options.superviseExec ? EXEC_RULES.filter((r) => syscallNumber(options.arch, r.syscall) !== undefined) : [];
  return assemble(programItems(options.arch, [...rules, ...exec], toSupervisor));
}

/** Whether a policy needs socket(AF_UNIX): any allowed Unix socket path, or all of them. */
export function seccompOptionsFor(
  policy: { readonly network: Pick<Policy['network'], 'allowAllUnixSockets' | 'allowUnixSockets'> },
  arch: SeccompArch,
): SeccompOptions {
  const { allowAllUnixSockets, allowUnixSockets } = policy.network;
  return { arch, allowUnixSockets: allowAllUnixSockets || allowUnixSockets.length > 0 };
}

function programItems(arch: SeccompArch, rules: readonly SeccompRule[], route: Route = direct): Item[] {
  const bySyscall = new Map<SyscallName, SeccompRule[]>();
  for (const rule of rules) {
    bySyscall.set(rule.syscall, [...(bySyscall.get(rule.syscall) ?? []), rule]);
  }

  const items: Item[] = [load(SECCOMP_DATA.arch), jump(BPF.JMP | BPF.JEQ | BPF.K, AUDIT_ARCH[arch], 0, ret('kill'))];
  items.push(load(SECCOMP_DATA.nr));
  if (arch === 'x86_64') {
    // nr -1 is how a tracer skips a syscall (the kernel answers ENOSYS); libseccomp lets it pass too.
    items.push(
      jump(BPF.JMP | BPF.JSET | BPF.K, X32_SYSCALL_BIT, 0, 'dispatch'),
      jump(BPF.JMP | BPF.JEQ | BPF.K, 0xffffffff, ret('allow'), ret('kill')),
      label('dispatch'),
    );
  }
  const handlers: Item[] = [];
  for (const [syscall, rules] of bySyscall) {
    const nr = syscallNumber(arch, syscall)!;
    const unconditional = rules.length === 1 && !rules[0]!.when && !rules[0]!.unless;
    const target = unconditional ? ret(route(rules[0]!.action)) : `sys_${syscall}`;
    items.push(jump(BPF.JMP | BPF.JEQ | BPF.K, nr, target, 0));
    if (!unconditional) handlers.push(label(target), ...handler(target, rules, route));
  }
  items.push(stmt(BPF.RET | BPF.K, RETURN_VALUE.allow), ...handlers);
  // One shared return per outcome the program can reach (allow and kill are always reachable).
  const outcomes = new Set<Outcome>(['allow', 'kill', ...rules.map((r) => route(r.action))]);
  for (const outcome of outcomes) items.push(label(ret(outcome)), stmt(BPF.RET | BPF.K, RETURN_VALUE[outcome]));
  return items;
}

/** The rules of one syscall in order; the first that applies decides, none applying allows. */
function handler(name: string, rules: readonly SeccompRule[], route: Route): Item[] {
  const items: Item[] = [];
  let loaded: number | undefined;
  rules.forEach((rule, i) => {
    if (i > 0) items.push(label(`${name}_${i}`));
    const next = i === rules.length - 1 ? ret('allow') : `${name}_${i + 1}`;
    const test = rule.when ?? rule.unless;
    if (!test) {
      items.push(stmt(BPF.RET | BPF.K, RETURN_VALUE[route(rule.action)]));
      return;
    }
    // Every path into this rule comes from the previous one, so A still holds its argument.
    if (loaded !== test.arg) items.push(load(SECCOMP_DATA.argLow(test.arg)));
    loaded = test.arg;
    const outcome = ret(route(rule.action));
    const [hit, miss] = rule.when ? [outcome, next] : [next, outcome];
    items.push(...argTest(test, hit, miss));
  });
  return items;
}

function argTest(test: ArgTest, hit: Target, miss: Target): Item[] {
  if ('hasBits' in test) return [jump(BPF.JMP | BPF.JSET | BPF.K, test.hasBits, hit, miss)];
  return test.equals.map((value, i) =>
    jump(BPF.JMP | BPF.JEQ | BPF.K, value, hit, i === test.equals.length - 1 ? miss : 0),
  );
}

export interface SeccompDescription {
  readonly arch: SeccompArch;
  readonly instructions: number;
  readonly rules: readonly SeccompRule[];
  /** Human-readable summary, one line per outcome (for `-d` and the README). */
  readonly lines: readonly string[];
}

/** What the program for `options` refuses, and how. */
export function describeSeccompProgram(options: SeccompOptions): SeccompDescription {
  const rules = seccompRules(options);
  const instructions = buildSeccompProgram(options).length / 8;
  const targets = (action: SeccompAction) =>
    rules.filter((r) => r.action === action).map(ruleTarget).join(', ');
  const lines = [
    `${options.arch} filter, ${instructions} instructions; other architectures` +
      `${options.arch === 'x86_64' ? ' and x32 syscalls' : ''} kill the process`,
    `EPERM: ${targets('eperm')}`,
    `ENOSYS: ${targets('enosys')} (libc falls back to clone)`,
    options.allowUnixSockets
      ? 'socket(AF_UNIX) allowed: the policy allows Unix sockets'
      : 'socket(AF_UNIX) and datagram socketpairs refused: the policy allows no Unix sockets (stream socketpairs stay allowed)',
    ...rules.filter((r) => r.quiet !== undefined).map((r) => `not logged: ${ruleTarget(r)}, ${r.quiet}`),
  ];
  return { arch: options.arch, instructions, rules, lines };
}
