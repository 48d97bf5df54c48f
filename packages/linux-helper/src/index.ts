/**
 * @fence/linux-helper: the contract between the Linux layers and the native in-sandbox helper
 * (`fence-launch`, in @fence/native): the plan's types, its only encoder, the rlimit mapping, and
 * the session's shared helper plan and hooks, the one loader of @fence/native, and Linux's paths
 * for read isolation.
 */
export { encodeHelperPlan } from './encode.js';
export { nativeMissing } from './errors.js';
export { addonWith, loadNative, type NativeModule } from './native.js';
export { CAPTURE_PORT, DNS_STUB, emptyHelperPlan, type Bridge, type HelperPlan, type LandlockPathRule, type LandlockPortRule, type LandlockRuleset, type Rlimit, type RlimitResource } from './helper-plan.js';
export { LINUX_PATHS } from './platform-paths.js';
export { rlimitsFor } from './rlimits.js';
export { createHelperHooks, helperSession, HelperSessionToken, type HelperHooks, type HelperSession } from './session.js';
