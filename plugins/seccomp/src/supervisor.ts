/**
 * The seccomp supervisor of a session (-m): the addon's thread holds the listeners of every
 * command's notify filter, answers each denied syscall with EPERM, and reports it here. One per
 * session; helpers send their listeners over the socket `fd` (inherited by every command).
 */
import type { ViolationStream } from '@fence/core';
import { addonWith } from '@fence/linux-helper';
import { notifyViolation, type NotifyEvent } from './notify-event.js';

/** The part of @fence/native's addon the supervisor uses. */
interface SupervisorAddon {
  notifySupervisor(onEvent: (e: NotifyEvent) => void): { readonly fd: number; flush(done: () => void): void; close(): void };
}

export interface Supervisor {
  /** The socket the helpers send their listeners over (a descriptor of this process). */
  readonly fd: number;
  /** Resolves once every event received so far has reached the stream. */
  flush(): Promise<void>;
  /** Stops answering: pending and later denials of its filters fail with ENOSYS. */
  close(): void;
}


/** Starts a supervisor emitting into `violations`; undefined when the addon cannot (not built, old). */
export async function startSupervisor(violations: ViolationStream): Promise<Supervisor | undefined> {
  const addon = await addonWith<SupervisorAddon>('notifySupervisor');
  if (!addon) return undefined;
  const handle = addon.notifySupervisor((event) => violations.emit(notifyViolation(event)));
  return {
    fd: handle.fd,
    flush: () => new Promise((resolve) => handle.flush(resolve)),
    close: () => handle.close(),
  };
}
