/**
 * @fence/cli as a library: `createSandbox` with the built-in layers for this platform.
 *
 *   import { createSandbox } from '@fence/cli';
 *   const sandbox = await createSandbox({ settings: { filesystem: { allowWrite: ['.'] } } });
 *   await sandbox.run(['make']);
 *   await sandbox.close();
 */
import { createSandbox as createKernelSandbox, type Sandbox, type SandboxOptions } from '@fence/core';
import { builtInPlugins } from './plugins.js';

export { builtInPlugins } from './plugins.js';
// The library's types and its typed errors (each FenceError has a `code` from ErrorCodes).
export {
  annotateStderr,
  ErrorCodes,
  FenceError,
  isFenceError,
  type CommandResult,
  type ErrorCode,
  type ExecOptions,
  type NetworkOverride,
  type Sandbox,
  type SandboxOptions,
  type Violation,
} from '@fence/core';
export { main } from './main.js';

export async function createSandbox(options: Omit<SandboxOptions, 'plugins'> & { plugins?: SandboxOptions['plugins'] } = {}): Promise<Sandbox> {
  return createKernelSandbox({ ...options, plugins: [...(await builtInPlugins(options.platform)), ...(options.plugins ?? [])] });
}
