/** The default logger: debug lines only with -d, both on stderr. */
import { isatty } from 'node:tty';
import type { Logger } from './services.js';

/** On a terminal the line ends in \r\n: during a terminal run it is raw and does not add the \r. */
const eol = (): string => (isatty(2) ? '\r\n' : '\n');

export function stderrLogger(debugEnabled: boolean): Logger {
  return {
    debugEnabled,
    debug(layer, message) {
      if (debugEnabled) process.stderr.write(`[fence:${layer}] ${message}${eol()}`);
    },
    warn(message) {
      process.stderr.write(`fence: warning: ${message}${eol()}`);
    },
    notice(message) {
      process.stderr.write(`fence: ${message}\n`);
    },
  };
}
