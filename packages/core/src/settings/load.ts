/**
 * Policy resolution: find the settings (explicit file, discovery or inline), read them as JSONC,
 * validate each file on its own (errors name the file and the field), follow `extends`, merge
 * what the files wrote after the built-in secrets lists (secrets.ts), apply the defaults, then
 * resolve every path. Reads files, writes nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errors, FenceError } from '../errors.js';
import type { Policy, PolicySource } from '../policy.js';
import { discoverSettingsFile, userSettingsFile } from './discover.js';
import { isCrossField, issueLines } from './issues.js';
import { parseSettingsText } from './jsonc.js';
import { mergeLayers, policySources, type SettingsLayer } from './merge.js';
import { expandHome, isWithin, realPathOfExisting, resolvePolicyPath, resolvePolicyPaths, resolveWorkingDirectory } from './paths.js';
import { configuredRegistryHosts, type RegistryContext } from './registries.js';
import { SettingsSchema, type SettingsInput } from './schema.js';
import { secretsLayers, type SecretsChoice } from './secrets.js';
import { isTemplateName, templateNames, templates } from './templates.js';

export interface LoadOptions {
  readonly cwd: string;
  readonly home: string;
  /** For `XDG_CONFIG_HOME`. */
  readonly env: NodeJS.ProcessEnv;
  /** An explicit settings file, relative to `cwd` (a missing file is an error). */
  readonly settingsFile?: string;
  /** A built-in template the settings then extend. */
  readonly template?: string;
  /** Settings given in code; no file is discovered. Their `extends` paths are relative to `cwd`. */
  readonly inline?: SettingsInput;
}

export interface LoadedPolicy {
  readonly policy: Policy;
  /** Where each leaf of the policy came from (see policySources). */
  readonly sources: readonly PolicySource[];
  /** Settings files read, in extends order (root first). */
  readonly files: readonly string[];
}

/** `extends` chains longer than this are refused. */
export const MAX_EXTENDS_DEPTH = 10;

/** `"extends": "@base"`: the user's own settings file, or the built-in default when there is none. */
export const BASE_SETTINGS = '@base';

const INLINE = 'inline';
const describe = (from: string): string => (from === INLINE ? 'inline settings' : from);

/** Validates one file's settings as written; cross-field checks wait for the merge. */
function validateLayer(value: unknown, from: string): SettingsInput {
  const result = SettingsSchema.safeParse(value);
  const issues = result.error?.issues.filter((i) => !isCrossField(i)) ?? [];
  if (issues.length > 0) throw errors.settingsInvalid(describe(from), issueLines(issues, value).join('\n'));
  return value as SettingsInput;
}

/** `settings` with `hosts` added to network.allowedDomains (de-duplicated). */
function withDomains(settings: SettingsInput, hosts: readonly string[]): SettingsInput {
  const allowed = settings.network?.allowedDomains ?? [];
  return { ...settings, network: { ...settings.network, allowedDomains: [...new Set([...allowed, ...hosts])] } };
}

/** `settings` with `paths` added to filesystem.allowWrite (de-duplicated). */
function withWrites(settings: SettingsInput, paths: readonly string[]): SettingsInput {
  const allowed = settings.filesystem?.allowWrite ?? [];
  return { ...settings, filesystem: { ...settings.filesystem, allowWrite: [...new Set([...allowed, ...paths])] } };
}

/** Reads settings and what they extend into layers, root first. */
class ChainReader {
  readonly files: string[] = [];

  constructor(
    private readonly home: string,
    private readonly registries: RegistryContext,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** `chain` names every settings source from the start of this chain to `from`, for errors. */
  layers(value: unknown, from: string, baseDir: string, chain: readonly string[]): SettingsLayer[] {
    const settings = validateLayer(value, from);
    const parents = settings.extends === undefined ? [] : this.#extends(settings.extends, from, baseDir, chain);
    return [...parents, { from, settings }];
  }

  file(file: string, chain: readonly string[]): SettingsLayer[] {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw errors.settingsMissing(file);
      throw errors.settingsUnreadable(file, e);
    }
    const layers = this.layers(parseSettingsText(text, file), file, path.dirname(file), chain);
    this.files.push(file); // after its parents: root first
    return layers;
  }

  template(name: string, chain: readonly string[]): SettingsLayer[] {
    const from = `template:${name}`;
    const template = templates[name as keyof typeof templates];
    const hosts = template.registries ? configuredRegistryHosts(template.registries, this.registries) : [];
    const present = (template.writableWhenPresent ?? []).filter((p) => existsSync(expandHome(p, this.home)));
    const withHosts = hosts.length === 0 ? template.settings : withDomains(template.settings, hosts);
    return this.layers(present.length === 0 ? withHosts : withWrites(withHosts, present), from, this.home, chain);
  }

  #extends(target: string, from: string, baseDir: string, chain: readonly string[]): SettingsLayer[] {
    const base = target === BASE_SETTINGS ? userSettingsFile(this.home, this.env) : undefined;
    // "@base" without a file of the user's: the built-in default, which is what no settings give.
    if (target === BASE_SETTINGS && base === undefined) return [];
    const next = isTemplateName(target)
      ? `template:${target}`
      : realPathOfExisting(base ?? path.resolve(baseDir, expandHome(target, this.home)));
    const longer = [...chain, next];
    if (chain.includes(next)) throw errors.extendsCycle(longer);
    if (longer.length - 1 > MAX_EXTENDS_DEPTH) throw errors.extendsDepth(longer, MAX_EXTENDS_DEPTH);
    if (isTemplateName(target)) return this.template(target, longer);
    try {
      return this.file(next, longer);
    } catch (e) {
      if (e instanceof FenceError && e.code === 'SETTINGS_MISSING') throw errors.extendsMissing(describe(from), target, templateNames);
      throw e;
    }
  }
}

/** How the settings as merged choose the built-in secrets lists (settings/secrets.ts). */
function secretsChoice(settings: SettingsInput, cwd: string, home: string): SecretsChoice {
  const allowed = (settings.filesystem?.allowRead ?? []).map((p) => resolvePolicyPath(p, cwd, home));
  return {
    useDefaults: settings.environment?.useDefaults ?? true,
    allowsRead: (entry: string) => {
      const store = resolvePolicyPath(entry, cwd, home);
      return allowed.some((a) => isWithin(store, a));
    },
  };
}

/** The policy for `opts` (see the file comment); throws a FenceError naming the file and field. */
export function loadPolicy(opts: LoadOptions): LoadedPolicy {
  if (opts.inline !== undefined && opts.settingsFile !== undefined) {
    throw errors.flagInvalid('settingsFile', 'give either inline settings or a settings file, not both');
  }
  if (opts.template !== undefined && !isTemplateName(opts.template)) throw errors.templateUnknown(opts.template, templateNames);
  const cwd = resolveWorkingDirectory(opts.cwd);
  const home = realPathOfExisting(path.resolve(opts.home));
  const reader = new ChainReader(home, { env: opts.env, home, cwd }, opts.env);
  const layers: SettingsLayer[] = opts.template === undefined ? [] : reader.template(opts.template, [`template:${opts.template}`]);
  if (opts.inline !== undefined) {
    layers.push(...reader.layers(opts.inline, INLINE, cwd, [INLINE]));
  } else {
    const file = opts.settingsFile !== undefined ? path.resolve(cwd, expandHome(opts.settingsFile, home)) : discoverSettingsFile(cwd, home, opts.env);
    if (file !== undefined) layers.push(...reader.file(file, [realPathOfExisting(file)]));
  }
  // The built-in secrets lists go first, but which ones depends on what the files chose
  // (environment.useDefaults, filesystem.allowRead): merged once to read that, then for good.
  const defaults = secretsLayers(secretsChoice(mergeLayers(layers).settings, cwd, home));
  const merged = mergeLayers([...defaults, ...layers]);
  const result = SettingsSchema.safeParse(merged.settings);
  if (!result.success) {
    const top = layers.at(-1)?.from ?? 'default settings';
    const label = layers.length > 1 ? `${describe(top)} (with what it extends)` : describe(top);
    throw errors.settingsInvalid(label, issueLines(result.error.issues, merged.settings).join('\n'));
  }
  const { $schema: _schema, extends: _extends, ...settings } = result.data;
  return {
    policy: { ...resolvePolicyPaths(settings, cwd, home), trusted: reader.files },
    sources: policySources(result.data, merged.origins),
    files: reader.files,
  };
}
