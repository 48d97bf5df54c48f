/**
 * The Linux layers' shared state for one session, offered the way webpack's getCompilationHooks
 * offers a plugin's own hooks: `helperSession(host)` returns the same object for every plugin of
 * a session (a service in the session's container, under a token of this package), created on
 * first use. The kernel never learns of it.
 *
 *   plan                  HelperPlan              what fence-launch does before the command; filled at
 *                                                 prepare: bridges (SERVICES), Landlock and seccomp
 *                                                 (KERNEL_LAYERS), rlimits (SANDBOX); encoded by the sandbox
 *   hooks.holdStart       SyncBailHook → true     asked by the sandbox at SANDBOX: must the command wait at
 *                                                 the start gate until every `monitor` tap ran? (a monitor
 *                                                 that must see it from its first instruction says true)
 *   hooks.singleFilter    SyncBailHook → bytes    asked by the sandbox when it installs one seccomp filter
 *                                                 itself (no helper): the layer that built the plan's two
 *                                                 filters answers with one holding every rule
 *   hooks.bridgeHandoff   SyncHook                called by the sandbox at SANDBOX when fence-launch runs the
 *                                                 plan's bridges: they take tunnel handoffs (a proxy may pass
 *                                                 a connected upstream socket, relayed without the proxy)
 */
import { guardTaps, type InjectionToken, type PluginHost } from '@fence/core';
import { SyncBailHook, SyncHook } from 'tapable';
import { emptyHelperPlan, type HelperPlan } from './helper-plan.js';

export function createHelperHooks() {
  return guardTaps(
    Object.freeze({
      holdStart: new SyncBailHook<[], true | undefined>([]),
      singleFilter: new SyncBailHook<[], Uint8Array | undefined>([]),
      bridgeHandoff: new SyncHook<[]>([]),
    }),
  );
}

export type HelperHooks = ReturnType<typeof createHelperHooks>;

export interface HelperSession {
  readonly plan: HelperPlan;
  readonly hooks: HelperHooks;
}

export const HelperSessionToken: InjectionToken<HelperSession> = Symbol.for('fence.linux-helper.HelperSession');

/** This session's helper plan and hooks (see above). */
export function helperSession(host: Pick<PluginHost, 'container'>): HelperSession {
  const { container } = host;
  if (!container.isRegistered(HelperSessionToken)) {
    container.register(HelperSessionToken, { useValue: { plan: emptyHelperPlan(), hooks: createHelperHooks() } });
  }
  return container.resolve(HelperSessionToken);
}
