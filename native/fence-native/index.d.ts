/** seccomp return actions, as SECCOMP_GET_ACTION_AVAIL names them (without SECCOMP_RET_). */
export type SeccompAction = 'kill_process' | 'kill_thread' | 'trap' | 'errno' | 'user_notif' | 'trace' | 'log' | 'allow';

/** Which SECCOMP_FILTER_FLAG_* the kernel accepts (probed without installing a filter). */
export interface SeccompFlags {
  readonly log: boolean;
  readonly newListener: boolean;
  readonly tsync: boolean;
}

/** fence_native.node. On other platforms than Linux the probes report absent (-ENOSYS / false). */
export interface NativeAddon {
  /** Highest Landlock ABI, or -errno (-ENOSYS: not built in, -EOPNOTSUPP: disabled at boot). */
  landlockAbiVersion(): number;
  /** Bitmask of fixed Landlock errata, or -errno (-EINVAL: kernel too old to report errata). */
  landlockErrata(): number;
  /** Whether the kernel supports the seccomp action. Throws TypeError for an unknown name. */
  seccompActionAvailable(name: SeccompAction): boolean;
  seccompFlagsAvailable(): SeccompFlags;
  /**
   * Replaces the Node process (stdio handed over blocking and inheritable, other descriptors
   * closed on exec, SIGPIPE/SIGXFSZ default, no blocked signals). Never call it in a test process.
   * On failure Node's state is restored and it throws an Error with `errno` (e.g. 2), `syscall`, `path`.
   */
  execve(path: string, argv: readonly string[], envp: readonly string[]): never;
  /**
   * Sends `data` (at least one byte) and a copy of the descriptor `passFd` over the Unix stream
   * socket `unixFd` in one sendmsg (SCM_RIGHTS), without blocking. Throws an Error with `code`
   * and `errno`: EBUSY when `unixFd` has unread input (the handoff would lose it), EAGAIN when
   * the socket buffer is full, ENOSYS on other platforms than Linux.
   */
  sendFd(unixFd: number, passFd: number, data: Uint8Array): void;
  /**
   * The process that connected the Unix socket `fd` (SO_PEERCRED): its pid in this process's pid
   * namespace (0 when not visible here), its uid, and a pidfd of that very process (SO_PEERPIDFD,
   * close-on-exec; -1 before Linux 6.5), which the caller closes. Throws an Error with `errno`.
   */
  peerCredentials(fd: number): { pid: number; uid: number; pidfd: number };
  /**
   * flock(fd, LOCK_EX | LOCK_NB): true when the open file now holds the lock, false when another
   * open file does. The lock goes with the open file: a child that inherits `fd` holds it until it
   * exits or closes it. Throws an Error with `errno` on other failures.
   */
  tryLock(fd: number): boolean;
  /**
   * Puts the terminal `fd` in raw mode (cfmakeraw: no echo, no line editing, no signal keys, no
   * output processing) and returns its previous mode, opaque, for ttyRestore. Throws an Error
   * with `code` and `errno` (ENOTTY: not a terminal).
   */
  ttyMakeRaw(fd: number): Uint8Array;
  /** Sets the mode ttyMakeRaw returned. Throws like ttyMakeRaw. */
  ttyRestore(fd: number, saved: Uint8Array): void;
}

/** `@fence/cli-<platform>-<arch>`: the package holding this platform's prebuilt native files. */
export const PLATFORM_PACKAGE: string;
/** Directory of the installed platform package, if any. */
export function platformPackageDir(): string | undefined;
/** Absolute path of fence-launch ($FENCE_LAUNCH_PATH, then the platform package, then the local build). */
export function helperPath(): string | undefined;
/** The addon (platform package first, then the local build), loaded once; undefined when absent. */
export function addon(): NativeAddon | undefined;
