/** The default logger: debug lines only with -d, both on stderr. */
import type { Logger } from './services.js';

export function stderrLogger(debugEnabled: boolean): Logger {
  return {
    debugEnabled,
    debug(layer, message) {
      if (debugEnabled) process.stderr.write(`[fence:${layer}] ${message}\n`);
    },
    warn(message) {
      process.stderr.write(`fence: warning: ${message}\n`);
    },
    notice(message) {
      process.stderr.write(`fence: ${message}\n`);
    },
  };
}
