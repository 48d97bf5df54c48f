/**
 * One catalogue of Fence's own failures. Each code has one factory; each message says what is
 * wrong, where (field path, file, plugin, hook) and how to fix it. The CLI prints
 * `fence: <message>` and exits 1.
 */
export const ErrorCodes = [
  'AGENT_FILE',
  'BIND_LIMIT',
  'COMMAND_DENIED',
  'COMMAND_MISSING',
  'COMMAND_UNENFORCED',
  'EXTENDS_CYCLE',
  'EXTENDS_DEPTH',
  'EXTENDS_MISSING',
  'FLAG_INVALID',
  'LAYER_UNAVAILABLE',
  'LIMIT_UNENFORCEABLE',
  'PATH_CHANGED',
  'PATH_INVALID',
  'PATH_SYMLINK',
  'PLUGIN_FAILED',
  'PLUGIN_LOAD',
  'SESSION_CLOSED',
  'SETTINGS_INVALID',
  'SETTINGS_MISSING',
  'SETTINGS_PARSE',
  'SETTINGS_UNREADABLE',
  'TEMPLATE_UNKNOWN',
  'TERMINAL_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class FenceError extends Error {
  override readonly name = 'FenceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isFenceError = (e: unknown): e is FenceError => e instanceof FenceError;

export const errors = {
  /** An agent's configuration file (hooks, settings) that Fence reads or edits is not as expected. */
  agentFile: (file: string, why: string, fix: string) => new FenceError('AGENT_FILE', `${file}: ${why}; ${fix}`),
  allowWriteSymlink: (index: number, written: string, real: string, isLink: boolean, field = 'allowWrite') =>
    new FenceError(
      'PATH_SYMLINK',
      `filesystem.${field}[${index}]: "${written}" ${isLink ? 'is a symlink' : 'leads through a symlink'} to ${real}; name the real path "${real}" in ${field} to allow it`,
    ),
  bindLimit: (count: number, max: number) =>
    new FenceError(
      'BIND_LIMIT',
      `the sandbox needs ${count} bind mounts, more than the ${max} descriptors Fence holds open for them; narrow allowWrite or the denyWrite globs, or run from a smaller directory (each protected name found in it is one mount)`,
    ),
  /** `why` names the rule and how to lift it (the command plugin's denial reason). */
  commandDenied: (command: string, why: string) => new FenceError('COMMAND_DENIED', `command "${command}" is denied by ${why}`),
  commandMissing: () =>
    new FenceError('COMMAND_MISSING', 'no command given; usage: fence [flags] -- <command> [args...] or fence -c "<shell string>"'),
  /** The policy restricts commands but no active layer checks them: nothing runs (fail closed). */
  commandUnenforced: (fields: readonly string[], why: string) =>
    new FenceError('COMMAND_UNENFORCED', `${fields.join(', ')} ${fields.length > 1 ? 'are' : 'is'} set but ${why}; nothing was run`),
  extendsCycle: (chain: readonly string[]) =>
    new FenceError('EXTENDS_CYCLE', `"extends" cycle: ${chain.join(' -> ')}; remove one of these "extends"`),
  extendsDepth: (chain: readonly string[], max: number) =>
    new FenceError('EXTENDS_DEPTH', `"extends" chain deeper than ${max}: ${chain.join(' -> ')}; flatten the chain`),
  extendsMissing: (file: string, target: string, known: readonly string[]) =>
    new FenceError('EXTENDS_MISSING', `${file}: extends: "${target}" is neither a built-in template (${known.join(', ')}), "@base" (your own settings file) nor an existing file`),
  flagInvalid: (flag: string, why: string) => new FenceError('FLAG_INVALID', `${flag}: ${why}`),
  /** An essential layer (the sandbox itself) is absent: its own reason says what to install. */
  layerMissing: (layer: string, reason: string | undefined) => new FenceError('LAYER_UNAVAILABLE', reason ?? `the ${layer} layer is unavailable`),
  layerUnavailable: (layer: string, why: string) =>
    new FenceError('LAYER_UNAVAILABLE', `--strict: the ${layer} layer is unavailable: ${why}; run without --strict to degrade, or install what the layer needs`),
  noSandbox: (platform: string, served: readonly string[]) =>
    new FenceError('LAYER_UNAVAILABLE', `no sandbox layer is available on ${platform} (the layers given serve ${served.join(', ') || 'no platform'}); Fence never runs a command unsandboxed`),
  /** --strict and a limit that would hold only per process or per user (or not at all), and `why`. */
  limitUnenforceable: (field: string, consequence: string, why: string, fix: string) =>
    new FenceError('LIMIT_UNENFORCEABLE', `--strict: ${field} ${consequence} (${why}); ${fix}, or remove ${field}, or run without --strict`),
  /** A path to bind is not the one that was checked (a symlink on the way, or a swap during start-up): nothing ran. */
  pathChanged: (path: string, why: string) =>
    new FenceError(
      'PATH_CHANGED',
      `cannot mount ${path} safely: ${why}; nothing was run (a symlink there, or a program replacing it while Fence starts, would redirect the mount): remove the symlink or stop that program, then run again`,
    ),
  pathInvalid: (field: string, path: string, why: string) => new FenceError('PATH_INVALID', `${field}: "${path}" ${why}`),
  pluginFailed: (plugin: string, hook: string, cause: unknown) =>
    new FenceError('PLUGIN_FAILED', `plugin ${plugin} failed in ${hook}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }),
  pluginUnsafe: (name: string, why: string) =>
    new FenceError('PLUGIN_LOAD', `plugin "${name}" is refused: ${why}, so a command could plant code that runs on the host at the next start; install the plugin outside the writable paths (e.g. npm i -g)`),
  pluginLoad: (name: string, why: string) =>
    new FenceError('PLUGIN_LOAD', `plugin "${name}" could not be loaded: ${why}; check the name in "plugins" or install the package`),
  sessionClosed: () => new FenceError('SESSION_CLOSED', 'this sandbox session is closed; create a new one with createSandbox()'),
  settingsInvalid: (file: string, details: string) => new FenceError('SETTINGS_INVALID', `${file}: invalid settings:\n${details}`),
  settingsMissing: (file: string) =>
    new FenceError('SETTINGS_MISSING', `settings file ${file} does not exist; check the path given to --settings`),
  settingsParse: (file: string, line: number, column: number, why: string) =>
    new FenceError('SETTINGS_PARSE', `${file}:${line}:${column}: ${why}`),
  settingsUnreadable: (file: string, cause: unknown) =>
    new FenceError('SETTINGS_UNREADABLE', `settings file ${file} cannot be read: ${cause instanceof Error ? cause.message : String(cause)}; check that it is a readable file`, { cause }),
  templateUnknown: (name: string, known: readonly string[]) =>
    new FenceError('TEMPLATE_UNKNOWN', `unknown template "${name}"; choose one of: ${known.join(', ')}`),
  terminalUnavailable: (why: string) => new FenceError('TERMINAL_UNAVAILABLE', `tty: ${why}; run without { tty: true } to pass stdio as is`),
} satisfies Record<string, (...args: never[]) => FenceError>;
