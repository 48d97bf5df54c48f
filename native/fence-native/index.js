'use strict';
// @fence/native: where the native files are, and the only encoder of the helper plan.
// `exports.x = ...` form on purpose: cjs-module-lexer then exposes every name to ESM `import {}`.
const fs = require('node:fs');
const path = require('node:path');

const ADDON_FILE = 'fence_native.node';
const HELPER_FILE = 'fence-launch';
const LOCAL_BUILD = path.join(__dirname, 'build', 'Release');

/**
 * The prebuilt native files come in `@fence/cli-<platform>-<arch>`, an optional dependency of
 * @fence/cli that npm installs only on its platform (tools/platform-packages.mjs builds them).
 */
const PLATFORM_PACKAGE = `@fence/cli-${process.platform}-${process.arch}`;
exports.PLATFORM_PACKAGE = PLATFORM_PACKAGE;

/** Directory of the installed platform package, if any. */
function platformPackageDir() {
  try {
    return path.dirname(require.resolve(`${PLATFORM_PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
}
exports.platformPackageDir = platformPackageDir;

function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Absolute path of `fence-launch`: $FENCE_LAUNCH_PATH when set (empty disables the helper), else
 * the platform package's, else the local build's; undefined when none is an executable file.
 */
exports.helperPath = function helperPath() {
  const override = process.env.FENCE_LAUNCH_PATH;
  if (override !== undefined) {
    return override !== '' && path.isAbsolute(override) && isExecutableFile(override) ? override : undefined;
  }
  if (process.platform !== 'linux') return undefined;
  const dirs = [platformPackageDir(), LOCAL_BUILD].filter((dir) => dir !== undefined);
  return dirs.map((dir) => path.join(dir, HELPER_FILE)).find(isExecutableFile);
};

let loaded; // undefined: not tried yet; null: tried, not available
/** The addon from the platform package, else the local build; undefined when neither loads. */
exports.addon = function addon() {
  if (loaded === undefined) {
    loaded = null;
    for (const dir of [platformPackageDir(), LOCAL_BUILD]) {
      if (dir === undefined || !fs.existsSync(path.join(dir, ADDON_FILE))) continue;
      try {
        loaded = require(path.join(dir, ADDON_FILE));
        break;
      } catch {
        // A file for another platform or a broken build: try the next place.
      }
    }
  }
  return loaded === null ? undefined : loaded;
};

const PLAN_MAGIC = 'fence-launch-plan 1';
const BPF_INSN_BYTES = 8;
const BPF_MAX_INSNS = 4096;
const RLIMITS = new Set(['AS', 'NPROC', 'CPU', 'NOFILE']);

function planError(field, what, value) {
  return new TypeError(`fence: helper plan: ${field} ${what} (got ${JSON.stringify(value)})`);
}

function uint(field, value, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw planError(field, `must be an integer 0..${max}`, value);
  }
  return String(value);
}

function port(field, value) {
  if (value === 0) throw planError(field, 'must be a port 1..65535', value);
  return uint(field, value, 65535);
}

/** Percent-encodes every byte outside printable ASCII, and `%`, so a path is one field. */
function encodePath(field, value) {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : undefined;
  if (!bytes || !value.startsWith('/') || bytes.includes(0)) throw planError(field, 'must be an absolute path without NUL', value);
  let out = '';
  for (const b of bytes) {
    out += b > 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const REFUSE_MAX_BYTES = 4096;

function bridgeLine(bridge, i) {
  const field = `bridges[${i}]`;
  if (bridge.kind === 'refuse') {
    const reply = bridge.reply;
    if (!(reply instanceof Uint8Array) || reply.byteLength < 1 || reply.byteLength > REFUSE_MAX_BYTES) {
      throw planError(`${field}.reply`, `must be 1..${REFUSE_MAX_BYTES} bytes`, reply?.byteLength);
    }
    return `refuse ${port(`${field}.port`, bridge.port)} ${Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength).toString('hex')}`;
  }
  if (bridge.kind !== 'tcp-to-unix' && bridge.kind !== 'unix-to-tcp') {
    throw planError(`${field}.kind`, "must be 'tcp-to-unix', 'unix-to-tcp' or 'refuse'", bridge.kind);
  }
  if (!Number.isInteger(bridge.fd) || bridge.fd < 3) throw planError(`${field}.fd`, 'must be a descriptor number 3..65535', bridge.fd);
  return `bridge ${bridge.kind} ${port(`${field}.port`, bridge.port)} ${uint(`${field}.fd`, bridge.fd, 65535)}`;
}

function rlimitLine(limit, i) {
  if (!RLIMITS.has(limit.resource)) throw planError(`rlimits[${i}].resource`, 'must be AS, NPROC, CPU or NOFILE', limit.resource);
  const value = limit.value === Infinity ? 'unlimited' : uint(`rlimits[${i}].value`, limit.value);
  return `rlimit ${limit.resource} ${value}`;
}

function landlockLines(ll) {
  return [
    `landlock ${uint('landlock.abi', ll.abi, 255)} ${uint('landlock.handledAccessFs', ll.handledAccessFs)} ` +
      `${uint('landlock.handledAccessNet', ll.handledAccessNet)} ${uint('landlock.scoped', ll.scoped)} ` +
      `${uint('landlock.restrictFlags', ll.restrictFlags, 0xffffffff)}`,
    ...ll.paths.map(
      (r, i) => `landlock-path ${uint(`landlock.paths[${i}].access`, r.access)} ${encodePath(`landlock.paths[${i}].path`, r.path)}`,
    ),
    ...ll.ports.map(
      (r, i) => `landlock-port ${uint(`landlock.ports[${i}].access`, r.access)} ${uint(`landlock.ports[${i}].port`, r.port, 65535)}`,
    ),
  ];
}

/** Plan field and line keyword of each filter: fence-launch installs `seccomp` with
 * SECCOMP_FILTER_FLAG_LOG, then `seccomp-quiet` without it. */
const SECCOMP_FILTERS = [
  ['seccomp', 'seccomp'],
  ['seccompQuiet', 'seccomp-quiet'],
];

function seccompHex(field, program) {
  const count = program?.byteLength / BPF_INSN_BYTES;
  if (!(program instanceof Uint8Array) || !Number.isInteger(count) || count < 1 || count > BPF_MAX_INSNS) {
    throw planError(field, `must be 1..${BPF_MAX_INSNS} struct sock_filter (8 bytes each)`, program?.byteLength);
  }
  return Buffer.from(program.buffer, program.byteOffset, program.byteLength).toString('hex');
}

const seccompLine = (field, keyword, program) => `${keyword} ${seccompHex(field, program)}`;

/** `seccomp-notify <fd> <hex>`: the supervised program and the socket its listener goes over. */
function seccompNotifyLine(notify) {
  const socket = uint('seccompNotify.socket', notify.socket, 65535);
  if (notify.socket < 3) throw planError('seccompNotify.socket', 'must be a descriptor >= 3', notify.socket);
  return `seccomp-notify ${socket} ${seccompHex('seccompNotify.program', notify.program)}`;
}

const GUARD_KINDS = [
  ['files', 'file'],
  ['dirs', 'dir'],
  ['git', 'git'],
  ['gitConfig', 'git-config'],
];

/** `guard <kind> <name>`: one line per protected name of the creation guard. */
function guardLines(guard) {
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
 * Encodes a HelperPlan for `fence-launch --plan-fd N` (or, base64, for $FENCE_LAUNCH_PLAN).
 * The format is in README.md; fence-launch rejects anything it does not know.
 */
exports.encodeHelperPlan = function encodeHelperPlan(plan) {
  const lines = [
    PLAN_MAGIC,
    ...plan.bridges.map(bridgeLine),
    ...plan.rlimits.map(rlimitLine),
    ...(plan.landlock ? landlockLines(plan.landlock) : []),
    ...SECCOMP_FILTERS.filter(([field]) => plan[field]).map(([field, keyword]) => seccompLine(field, keyword, plan[field])),
    ...(plan.seccompNotify ? [seccompNotifyLine(plan.seccompNotify)] : []),
    ...(plan.createGuard ? guardLines(plan.createGuard) : []),
  ];
  const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
};
