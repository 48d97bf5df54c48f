/**
 * The seccomp supervisor of a session (-m, runtimeExecPolicy "argv"): the addon's thread holds the
 * listeners of every command's notify filter, answers each denied syscall with EPERM, and reports
 * it here; an execve waits there for `onExec`'s verdict. One per session; helpers send their
 * listeners over the socket `fd` (inherited by every command).
 */
import type { ViolationStream } from '@fence/core';
import { addonWith, loadNative } from '@fence/linux-helper';
import type { NotifyExec } from './exec-request.js';
import { notifyViolation, type NotifyEvent } from './notify-event.js';

/** Judges an exec call: true lets it go on, false refuses it with EPERM. */
export type ExecJudge = (e: NotifyExec) => boolean;

/** The part of @fence/native's addon the supervisor uses. */
interface SupervisorAddon {
  notifySupervisor(
    onEvent: (e: NotifyEvent) => void,
    onExec?: ExecJudge,
  ): { readonly fd: number; flush(done: () => void): void; close(): void };
}

export interface Supervisor {
  /** The socket the helpers send their listeners over (a descriptor of this process). */
  readonly fd: number;
  /** Resolves once every event received so far has reached the stream. */
  flush(): Promise<void>;
  /** Stops answering: pending and later denials of its filters fail with ENOSYS. */
  close(): void;
}

/** The addon, and whether the in-sandbox helper that installs the notify filter is there too. */
async function loadAddon(): Promise<{ addon: SupervisorAddon; helper: boolean } | undefined> {
  const addon = await addonWith<SupervisorAddon>('notifySupervisor');
  if (!addon) return undefined;
  return { addon, helper: (await loadNative())?.helperPath() !== undefined };
}

/**
 * Starts a supervisor emitting into `violations`, judging exec calls with `onExec` (without it,
 * a filter that sends them is answered EPERM); undefined when the addon cannot (not built, old),
 * or when exec calls are wanted and the in-sandbox helper is missing.
 */
export async function startSupervisor(violations: ViolationStream, onExec?: ExecJudge): Promise<Supervisor | undefined> {
  const loaded = await loadAddon();
  // Without the helper, bwrap's --seccomp fallback installs no notify filter: no exec would come.
  if (!loaded || (onExec && !loaded.helper)) return undefined;
  const handle = loaded.addon.notifySupervisor((event) => violations.emit(notifyViolation(event)), onExec);
  return {
    fd: handle.fd,
    flush: () => new Promise((resolve) => handle.flush(resolve)),
    close: () => handle.close(),
  };
}
