/** Attacks on the filesystem policy: allowWrite, the working directory, protected names, denyRead. */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { PROTECTED_FILES } from '@fence/plugin-bwrap';
import { exists, landed, needs, sh, type Attack, type CheckContext } from './attack.js';
import { writeAllowed } from './policy-allows.js';

const outsideFile = (ctx: CheckContext) => join(ctx.host.dir, 'pwned');
const cwdFile = (ctx: CheckContext) => join(ctx.policy.cwd, `.fence-check-${process.pid}`);

/**
 * A protected path in the working directory with nothing in it: absent, or an empty file (e.g.
 * the read-only placeholder bwrap mounts over a missing name). Appending to it is the attack; a
 * user's file with content is never touched. Chosen once per check, before the attack runs.
 */
interface ProtectedTarget {
  readonly path: string;
  readonly existed: boolean;
}
const protectedTargets = new WeakMap<CheckContext, ProtectedTarget | undefined>();
function protectedTarget(ctx: CheckContext): ProtectedTarget | undefined {
  if (!protectedTargets.has(ctx)) {
    // Names few tools read come first: even an append that got through (and is undone) harms nothing.
    const paths = ['.ripgreprc', '.mcp.json', ...PROTECTED_FILES].map((n) => join(ctx.policy.cwd, n));
    const path = paths.find((p) => !exists(p) || (lstatSync(p).isFile() && lstatSync(p).size === 0));
    protectedTargets.set(ctx, path === undefined ? undefined : { path, existed: exists(path) });
  }
  return protectedTargets.get(ctx);
}

/** Whether the append got through; if so, undoes it (back to empty, or gone). */
function appended(target: ProtectedTarget): boolean {
  const content = exists(target.path) ? readFileSync(target.path, 'utf8') : '';
  if (!content.includes('pwned')) return false;
  if (target.existed) truncateSync(target.path);
  else rmSync(target.path, { force: true });
  return true;
}

/** A denyRead path that is a plain path with something to read on the host (glob entries are skipped). */
function readableDenied(ctx: CheckContext): string | undefined {
  return ctx.policy.paths.denyRead.filter((r) => !r.glob).map((r) => r.real).find((p) => {
    if (!existsSync(p)) return false;
    try {
      const st = statSync(p);
      return st.isDirectory() ? readdirSync(p).length > 0 : st.size > 0;
    } catch {
      return false; // the host user cannot read it either: nothing to prove
    }
  });
}

export const filesystemAttacks: readonly Attack[] = [
  {
    name: 'write outside the allowed paths',
    covers: 'filesystem.allowWrite',
    allowedBy: (ctx) => writeAllowed(ctx.policy, outsideFile(ctx)),
    script: (ctx) => `echo pwned > ${sh(outsideFile(ctx))}`,
    judge: { kind: 'effect', happened: (ctx) => landed(outsideFile(ctx)) },
  },
  {
    name: 'write in the working directory',
    covers: 'filesystem.allowWrite',
    allowedBy: (ctx) => writeAllowed(ctx.policy, cwdFile(ctx)),
    script: (ctx) => `echo pwned > ${sh(cwdFile(ctx))}`,
    judge: { kind: 'effect', happened: (ctx) => landed(cwdFile(ctx)) },
  },
  {
    name: 'create a protected file in the working directory',
    covers: 'mandatory write protection',
    untestable: (ctx) => (protectedTarget(ctx) ? undefined : 'every protected name in the working directory has content; Fence does not touch it'),
    script: (ctx) => `echo pwned >> ${sh(protectedTarget(ctx)!.path)}`,
    judge: { kind: 'effect', happened: (ctx) => appended(protectedTarget(ctx)!) },
  },
  {
    name: 'read a denyRead path',
    covers: 'filesystem.denyRead',
    untestable: (ctx) => needs('sha256sum')(ctx) ?? (readableDenied(ctx) ? undefined : 'no denyRead entry names an existing, non-empty path'),
    // The same fingerprint inside as on the host means the content was read.
    script: (ctx) => {
      const p = sh(readableDenied(ctx)!);
      return `if [ -d ${p} ]; then l=$(LC_ALL=C ls -A ${p}); else l=$(sha256sum < ${p}); [ -s ${p} ] || l=; fi; [ -n "$l" ] && echo "ok $(echo "$l" | sha256sum)"`;
    },
    judge: { kind: 'same-as-host' },
  },
];
