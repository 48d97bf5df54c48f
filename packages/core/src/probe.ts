/** The default FeatureProbe: real programs on PATH, results cached per process. */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { FeatureProbe, ProbeResult } from './services.js';

const memos = new Map<string, unknown>();

function memo<T>(key: string, compute: () => T): T {
  if (!memos.has(key)) memos.set(key, compute());
  return memos.get(key) as T;
}

// Methods do not use `this`, so they can be passed around unbound (`{ which: processProbe.which }`).
export const processProbe: FeatureProbe = {
  which(program) {
    return memo(`which:${program}`, () => {
      for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
        if (!dir) continue;
        const candidate = join(dir, program);
        try {
          accessSync(candidate, constants.X_OK);
          return candidate;
        } catch {
          /* not in this directory */
        }
      }
      return undefined;
    });
  },
  run(argv, timeoutMs = 5000) {
    return memo(`run:${JSON.stringify(argv)}`, (): ProbeResult => {
      const [cmd, ...args] = argv;
      const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error?.message };
    });
  },
};
