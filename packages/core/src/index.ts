/** @fence/core: the kernel. Everything a plugin or an embedding host needs. */
export * from './errors.js';
export * from './hooks.js';
export * from './kernel.js';
export * from './plan.js';
export * from './plugin.js';
export * from './policy.js';
export * from './services.js';
export * from './session.js';
export * from './violations.js';
export * from './environment.js';
export { spawnCommand, FORWARDED_SIGNALS, type SpawnedCommand, type SpawnRequest } from './runner.js';
export { checkCommand } from './command-policy.js';
export { loadPolicy, type LoadOptions, type LoadedPolicy } from './settings/load.js';
export * from './settings/schema.js';
export * from './settings/domain-pattern.js';
