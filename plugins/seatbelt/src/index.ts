/**
 * @fence/plugin-seatbelt: the macOS sandbox. `sandbox-exec -p <profile>` wraps the command with a
 * generated Seatbelt profile (files, network through the proxies only, processes); with -m, the
 * unified log's denials of this session become violations.
 */
import { definePlugin, PrepareStage, Tokens, type RunningCommand } from '@fence/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { detectSeatbelt } from './detect.js';
import { prepareSeatbelt } from './launch.js';
import { LogMonitor } from './log-monitor.js';
import { DARWIN_PATHS } from './platform-paths.js';

/** The unified log hands denials to `log stream` with a delay; wait this long after exit. */
const LOG_DRAIN_MS = 500;

export const seatbeltPlugin = definePlugin({
  name: 'seatbelt',
  platforms: ['darwin'],
  provides: ['filesystem', 'network-isolation'],
  detect: () => detectSeatbelt(),
  register(services) {
    services.register(Tokens.PlatformPaths, { useValue: DARWIN_PATHS });
  },
  apply(kernel) {
    let logTag: string | undefined;
    const monitors = new Map<RunningCommand, LogMonitor>();
    kernel.hooks.prepare.tapPromise({ name: 'seatbelt', stage: PrepareStage.SANDBOX }, async (plan) => {
      logTag = prepareSeatbelt(kernel, plan);
    });
    kernel.hooks.monitor.tapPromise('seatbelt', async (command) => {
      if (command.monitor && logTag) monitors.set(command, LogMonitor.start(logTag, kernel.resolve(Tokens.Violations), kernel.resolve(Tokens.Clock)));
    });
    kernel.hooks.exit.tapPromise('seatbelt', async ({ command }) => {
      const m = monitors.get(command);
      if (!m) return;
      monitors.delete(command);
      await sleep(LOG_DRAIN_MS);
      await m.stop();
    });
    kernel.hooks.dispose.tapPromise('seatbelt', async () => {
      await Promise.all([...monitors.values()].map((m) => m.stop()));
      monitors.clear();
    });
  },
});

export default seatbeltPlugin;

export {
  bothSpellings,
  buildSeatbeltProfile,
  protectedPathRegexes,
  sbplString,
  type SeatbeltProfileOptions,
} from './seatbelt-profile.js';
export { detectSeatbelt, REASONS, SANDBOX_EXEC } from './detect.js';
export { prepareSeatbelt } from './launch.js';
export { logStreamArgs, parseSandboxLogLine } from './log-stream.js';
export { LogMonitor } from './log-monitor.js';
export { DARWIN_PATHS } from './platform-paths.js';
export { SETTINGS_NOTES } from './settings-notes.js';
