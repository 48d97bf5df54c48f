/**
 * The package registries this machine is configured with, so the `npm-install` and `pip-install`
 * templates allow the registry npm or pip will really use (a mirror, a private registry) and not
 * only the public defaults. Read from the same places the tools read, without running them (a
 * start of `npm config get registry` costs more than all of Fence's own start-up).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type RegistryKind = 'npm' | 'pip';

const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** The host of an http(s) URL, or undefined. */
function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.hostname.replace(/^\[(.*)\]$/, '$1') : undefined;
  } catch {
    return undefined;
  }
}

/** `registry=` and `@scope:registry=` values of npmrc text. */
const npmrcUrls = (text: string): string[] =>
  [...text.matchAll(/^\s*(?:@[^:\s]+:)?registry\s*=\s*(\S+)\s*$/gm)].map((m) => m[1]!);

/** `index-url` and `extra-index-url` values of pip.conf text (values may continue on indented lines). */
function pipConfUrls(text: string): string[] {
  const urls: string[] = [];
  let inUrls = false;
  for (const line of text.split('\n')) {
    const key = /^\s*(extra-index-url|index-url)\s*=\s*(.*)$/.exec(line);
    if (key) urls.push(...key[2]!.split(/\s+/));
    else if (inUrls && /^\s+\S/.test(line)) urls.push(...line.trim().split(/\s+/));
    inUrls = key !== null || (inUrls && /^\s+\S/.test(line));
  }
  return urls;
}

export interface RegistryContext {
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readonly cwd: string;
}

/** The registry hosts npm or pip would use here, beyond the template's own (unique, in order found). */
export function configuredRegistryHosts(kind: RegistryKind, { env, home, cwd }: RegistryContext): string[] {
  const urls =
    kind === 'npm'
      ? [
          env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY ?? '',
          ...[path.join(cwd, '.npmrc'), path.join(home, '.npmrc'), path.join(path.dirname(path.dirname(process.execPath)), 'etc', 'npmrc'), '/etc/npmrc'].flatMap((f) => npmrcUrls(read(f))),
        ]
      : [
          ...(env.PIP_INDEX_URL ?? '').split(/\s+/),
          ...(env.PIP_EXTRA_INDEX_URL ?? '').split(/\s+/),
          ...['/etc/pip.conf', path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'pip', 'pip.conf'), path.join(home, '.pip', 'pip.conf')].flatMap((f) => pipConfUrls(read(f))),
        ];
  return [...new Set(urls.map(hostOf).filter((h): h is string => h !== undefined))];
}
