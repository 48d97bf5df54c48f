/**
 * The `extends` merge of validated settings, root first: lists are concatenated and
 * de-duplicated, booleans OR-ed, other values overridden by the child. It merges what the files
 * wrote (before defaults), so a child that does not set a value never resets its parent's, and it
 * records where each value came from for `fence config show`. Pure.
 */
import type { PolicySource } from '../policy.js';
import type { Settings, SettingsInput } from './schema.js';

export interface SettingsLayer {
  /** A file path, `template:<name>` or `inline`. */
  readonly from: string;
  /** Settings as written (validated, no defaults applied). */
  readonly settings: SettingsInput;
}

type Tree = { [key: string]: unknown };

/** Keys that steer loading and never reach the policy. */
const LOADING_KEYS = new Set(['$schema', 'extends']);

const isTree = (v: unknown): v is Tree => v !== null && typeof v === 'object' && !Array.isArray(v);

class Merger {
  readonly value: Tree = {};
  /** Field path → origin of a scalar, or of each element of a list. */
  readonly origins = new Map<string, string | string[]>();

  add(layer: SettingsLayer): void {
    this.#merge(this.value, layer.settings as Tree, '', layer.from);
  }

  #merge(target: Tree, source: Tree, prefix: string, from: string): void {
    for (const [key, value] of Object.entries(source)) {
      if (prefix === '' && LOADING_KEYS.has(key)) continue;
      const field = prefix === '' ? key : `${prefix}.${key}`;
      if (isTree(value)) {
        const child = isTree(target[key]) ? target[key] : (target[key] = {});
        this.#merge(child as Tree, value, field, from);
      } else if (Array.isArray(value)) {
        const list = (Array.isArray(target[key]) ? target[key] : []) as unknown[];
        const origins = (this.origins.get(field) ?? []) as string[];
        for (const item of value) {
          if (list.includes(item)) continue;
          list.push(item);
          origins.push(from);
        }
        target[key] = list;
        this.origins.set(field, origins);
      } else if (!(typeof value === 'boolean' && target[key] === true)) {
        target[key] = value;
        this.origins.set(field, from);
      }
    }
  }
}

/** The settings of `layers` merged root first, with the origin of every value they set. */
export function mergeLayers(layers: readonly SettingsLayer[]): { settings: SettingsInput; origins: ReadonlyMap<string, string | string[]> } {
  const merger = new Merger();
  for (const layer of layers) merger.add(layer);
  return { settings: merger.value as SettingsInput, origins: merger.origins };
}

/**
 * Where each leaf of `settings` came from: one entry per list element (`network.allowedDomains[0]`),
 * one per other value, `default` for what no layer set.
 */
export function policySources(settings: Settings, origins: ReadonlyMap<string, string | string[]>): PolicySource[] {
  const sources: PolicySource[] = [];
  const walk = (node: Tree, prefix: string): void => {
    for (const [key, value] of Object.entries(node)) {
      if (prefix === '' && LOADING_KEYS.has(key)) continue;
      const field = prefix === '' ? key : `${prefix}.${key}`;
      const origin = origins.get(field);
      if (isTree(value)) walk(value, field);
      else if (Array.isArray(value) && value.length > 0) {
        value.forEach((_, i) => sources.push({ field: `${field}[${i}]`, from: (Array.isArray(origin) && origin[i]) || 'default' }));
      }
      else sources.push({ field, from: typeof origin === 'string' ? origin : 'default' });
    }
  };
  walk(settings as unknown as Tree, '');
  return sources;
}
