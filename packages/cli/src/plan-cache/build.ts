/**
 * A session built for the plan cache: node:fs recorded while it is built, its stderr lines kept,
 * and its plan written down for the native fast path when nothing in it needs Node (store.ts).
 * With FENCE_FAST_PATH=explain, says why a plan was not written.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger, Sandbox } from '@fence/core';
import type { Flags } from '../args.js';
import { sandboxFromFlags } from '../sandbox.js';
import { proxyService } from './proxy-service.js';
import { recordPaths } from './recorder.js';
import { fastPathObstacle, flagObstacle, planCacheDir, storePlan } from './store.js';

/** The kernel's default logger (`fence: warning: …`), keeping each line for the fast path to say again. */
function keepingLogger(said: string[]): Logger {
  const eol = process.stderr.isTTY ? '\r\n' : '\n';
  return {
    debugEnabled: false,
    debug: () => undefined,
    warn(message) {
      said.push(`fence: warning: ${message}`);
      process.stderr.write(`fence: warning: ${message}${eol}`);
    },
    notice(message) {
      said.push(`fence: ${message}`);
      process.stderr.write(`fence: ${message}\n`);
    },
  };
}

export async function buildRecorded(flags: Flags, flagWords: readonly string[]): Promise<Sandbox> {
  const explain = process.env.FENCE_FAST_PATH?.startsWith('explain') ? (why: string) => process.stderr.write(`fence: plan cache: not stored: ${why}\n`) : () => undefined;
  const dir = planCacheDir(process.env);
  const obstacle = flagObstacle(flags) ?? (dir === undefined ? 'no absolute cache directory' : undefined);
  if (obstacle !== undefined || dir === undefined) {
    explain(obstacle ?? '');
    return sandboxFromFlags(flags);
  }
  // Made before the session, so the sandbox finds it and keeps it read-only. A home this user
  // cannot write (a service account, HOME=/) only means no plan is kept.
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    explain(`cannot make ${dir}: ${e instanceof Error ? e.message : String(e)}`);
    return sandboxFromFlags(flags);
  }
  const said: string[] = [];
  const builtAtNs = BigInt(Date.now()) * 1_000_000n;
  // The proxies, when this run needs them, are the shared service's: the plan pins its sockets.
  const service = { ...proxyService(dir), unavailable: (why: string) => explain(`the proxy service could not be used: ${why}`) };
  const { result: sandbox, touched } = await recordPaths(() => sandboxFromFlags(flags, keepingLogger(said), service));
  // Fence's build: its bundle (argv[1], beside the startup snapshot) and Node.
  for (const file of [process.argv[1], process.execPath]) if (file) touched.set(resolve(file), 'read');
  const why = fastPathObstacle(sandbox) ?? storePlan({ sandbox, flagWords, touched, builtAtNs, said });
  if (why !== undefined) explain(why);
  return sandbox;
}
