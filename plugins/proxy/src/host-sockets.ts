/**
 * The host side of the helper's bridges, as descriptors opened before any command runs, so nothing
 * inside the sandbox (nor another sandbox that can write the runtime directory) can replace or
 * redirect a socket the relays use: the helper connects to a proxy through an O_PATH descriptor of
 * its socket, and accepts `-p` connections on a listening socket Fence made, which the host-side
 * forwarder reaches through an O_PATH descriptor too.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { addFd, type HostService, type LaunchPlan } from '@fence/core';

const O_PATH = 0o10000000;

/** Opens `path` (a socket just created by this process) without following a link; checks it is a socket. */
function openSocketPath(path: string): number {
  const fd = openSync(path, O_PATH | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isSocket()) {
    closeSync(fd);
    throw new Error(`${path} is not a socket`);
  }
  return fd;
}

/** A path that reaches the socket through this process's descriptor, never through its name. */
export const throughDescriptor = (fd: number): string => `/proc/self/fd/${fd}`;

/**
 * Wraps a service that listens on the Unix socket `path`: once it started, the socket is opened
 * O_PATH; returns the plan descriptor the helper receives it as.
 */
export function pinListeningSocket(plan: LaunchPlan, service: HostService, path: string): { service: HostService; fd: number } {
  let fd: number | undefined;
  const pinned: HostService = {
    name: service.name,
    start: async () => {
      await service.start();
      fd = openSocketPath(path);
    },
    stop: async () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      await service.stop();
    },
  };
  const planFd = addFd(plan, {
    inherit: () => {
      if (fd === undefined) throw new Error(`${service.name} is not started`);
      return fd;
    },
  });
  return { service: pinned, fd: planFd };
}

/**
 * A listening socket for `-p` at `path`, made now: the helper accepts on it (plan descriptor
 * `fd`), and the host connects to `connectPath`, through an O_PATH descriptor of it.
 */
export function inboundListener(plan: LaunchPlan, listenUnix: (path: string, backlog: number) => number, path: string): { fd: number; connectPath: string } {
  const listener = listenUnix(path, 128);
  const reach = openSocketPath(path);
  plan.cleanup.push(() => {
    closeSync(listener);
    closeSync(reach);
  });
  return { fd: addFd(plan, { inherit: () => listener }), connectPath: throughDescriptor(reach) };
}
