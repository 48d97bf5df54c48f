/**
 * The only encoder of the helper plan: `fence-launch --plan-fd N` reads this text (the format is in
 * native/fence-native/README.md) and rejects anything it does not know. Pure: bytes out, no effects.
 */
import type { Bridge, HelperPlan, LandlockRuleset, Rlimit } from './helper-plan.js';

const PLAN_MAGIC = 'fence-launch-plan 1';
const BPF_INSN_BYTES = 8;
const BPF_MAX_INSNS = 4096;
const REFUSE_MAX_BYTES = 4096;
const RLIMITS = new Set(['AS', 'NPROC', 'CPU', 'NOFILE']);

function planError(field: string, what: string, value: unknown): TypeError {
  return new TypeError(`fence: helper plan: ${field} ${what} (got ${JSON.stringify(value)})`);
}

function uint(field: string, value: number, max = Number.MAX_SAFE_INTEGER): string {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw planError(field, `must be an integer 0..${max}`, value);
  return String(value);
}

function port(field: string, value: number): string {
  if (value === 0) throw planError(field, 'must be a port 1..65535', value);
  return uint(field, value, 65535);
}

/** Percent-encodes every byte outside printable ASCII, and `%`, so a path is one field. */
function encodePath(field: string, value: string): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : undefined;
  if (!bytes || !value.startsWith('/') || bytes.includes(0)) throw planError(field, 'must be an absolute path without NUL', value);
  let out = '';
  for (const b of bytes) out += b > 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

function bridgeLine(bridge: Bridge, i: number): string {
  const field = `bridges[${i}]`;
  if (bridge.kind === 'refuse') {
    const { reply } = bridge;
    if (!(reply instanceof Uint8Array) || reply.byteLength < 1 || reply.byteLength > REFUSE_MAX_BYTES) {
      throw planError(`${field}.reply`, `must be 1..${REFUSE_MAX_BYTES} bytes`, (reply as Uint8Array | undefined)?.byteLength);
    }
    return `refuse ${port(`${field}.port`, bridge.port)} ${hex(reply)}`;
  }
  const kinds = ['tcp-to-unix', 'unix-to-tcp', 'capture', 'dns'];
  if (!kinds.includes(bridge.kind)) {
    throw planError(`${field}.kind`, "must be 'tcp-to-unix', 'unix-to-tcp', 'capture', 'dns' or 'refuse'", (bridge as { kind: unknown }).kind);
  }
  if (!Number.isInteger(bridge.fd) || bridge.fd < 3) throw planError(`${field}.fd`, 'must be a descriptor number 3..65535', bridge.fd);
  const tail = `${port(`${field}.port`, bridge.port)} ${uint(`${field}.fd`, bridge.fd, 65535)}`;
  return bridge.kind === 'capture' || bridge.kind === 'dns' ? `${bridge.kind} ${tail}` : `bridge ${bridge.kind} ${tail}`;
}

function rlimitLine(limit: Rlimit, i: number): string {
  if (!RLIMITS.has(limit.resource)) throw planError(`rlimits[${i}].resource`, 'must be AS, NPROC, CPU or NOFILE', limit.resource);
  const value = limit.value === Infinity ? 'unlimited' : uint(`rlimits[${i}].value`, limit.value);
  return `rlimit ${limit.resource} ${value}`;
}

function landlockLines(ll: LandlockRuleset): string[] {
  return [
    `landlock ${uint('landlock.abi', ll.abi, 255)} ${uint('landlock.handledAccessFs', ll.handledAccessFs)} ` +
      `${uint('landlock.handledAccessNet', ll.handledAccessNet)} ${uint('landlock.scoped', ll.scoped)} ` +
      `${uint('landlock.restrictFlags', ll.restrictFlags, 0xffffffff)}`,
    ...ll.paths.map((r, i) => `landlock-path ${uint(`landlock.paths[${i}].access`, r.access)} ${encodePath(`landlock.paths[${i}].path`, r.path)}`),
    ...ll.ports.map((r, i) => `landlock-port ${uint(`landlock.ports[${i}].access`, r.access)} ${uint(`landlock.ports[${i}].port`, r.port, 65535)}`),
  ];
}

function seccompHex(field: string, program: Uint8Array): string {
  const count = program?.byteLength / BPF_INSN_BYTES;
  if (!(program instanceof Uint8Array) || !Number.isInteger(count) || count < 1 || count > BPF_MAX_INSNS) {
    throw planError(field, `must be 1..${BPF_MAX_INSNS} struct sock_filter (8 bytes each)`, (program as Uint8Array | undefined)?.byteLength);
  }
  return hex(program);
}

/** `seccomp-notify <fd> <hex>`: the supervised program and the socket its listener goes over. */
function seccompNotifyLine(notify: NonNullable<HelperPlan['seccompNotify']>): string {
  const socket = uint('seccompNotify.socket', notify.socket, 65535);
  if (notify.socket < 3) throw planError('seccompNotify.socket', 'must be a descriptor >= 3', notify.socket);
  return `seccomp-notify ${socket} ${seccompHex('seccompNotify.program', notify.program)}`;
}

const GUARD_KINDS = [
  ['files', 'file'],
  ['dirs', 'dir'],
  ['git', 'git'],
  ['gitConfig', 'git-config'],
] as const;

/** `guard <kind> <name>`: one line per protected name of the creation guard. */
function guardLines(guard: NonNullable<HelperPlan['createGuard']>): string[] {
  return GUARD_KINDS.flatMap(([field, kind]) =>
    (guard[field] ?? []).map((name, i) => {
      if (typeof name !== 'string' || !/^[\x21-\x24\x26-\x2e\x30-\x7e]+(\/[\x21-\x24\x26-\x2e\x30-\x7e]+)?$/.test(name) || name === '.' || name === '..' || name.length > 255) {
        throw planError(`createGuard.${field}[${i}]`, 'must be a file name, or two joined by one /, in printable ASCII without %', name);
      }
      return `guard ${kind} ${name}`;
    }),
  );
}

/**
 * The plan as fence-launch reads it. fence-launch installs `seccomp` with SECCOMP_FILTER_FLAG_LOG,
 * then `seccomp-quiet` without it. Throws a TypeError naming the first bad field.
 */
export function encodeHelperPlan(plan: HelperPlan): Uint8Array {
  const lines = [
    PLAN_MAGIC,
    ...plan.bridges.map(bridgeLine),
    ...plan.rlimits.map(rlimitLine),
    ...(plan.landlock ? landlockLines(plan.landlock) : []),
    ...(plan.seccomp ? [`seccomp ${seccompHex('seccomp', plan.seccomp)}`] : []),
    ...(plan.seccompQuiet ? [`seccomp-quiet ${seccompHex('seccompQuiet', plan.seccompQuiet)}`] : []),
    ...(plan.seccompNotify ? [seccompNotifyLine(plan.seccompNotify)] : []),
    ...(plan.createGuard ? guardLines(plan.createGuard) : []),
    ...(plan.bridgesFirst ? ['bridges-first'] : []),
  ];
  const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
