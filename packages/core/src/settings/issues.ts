/**
 * Turns zod issues into the lines of a SETTINGS_INVALID error: one `  field.path[i]: why` per
 * problem, unknown keys with the closest known key. Pure.
 */
import type { z } from 'zod';
import { SettingsSchema } from './schema.js';

type Issue = z.core.$ZodIssue;
type Segment = PropertyKey;

/** `network.allowedDomains[2]`, the way every Fence message names a field. */
export function fieldPath(path: readonly Segment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(top level)' : out;
}

/** Keys the schema allows in the object at `path` (through defaults, optionals and arrays). */
export function knownKeys(path: readonly Segment[]): string[] {
  let schema: z.core.$ZodType | undefined = SettingsSchema;
  for (let i = 0; schema !== undefined; i++) {
    let def: z.core.$ZodTypeDef & { innerType?: z.core.$ZodType } = schema._zod.def;
    while (def.innerType !== undefined) def = def.innerType._zod.def;
    if (i === path.length) return def.type === 'object' ? Object.keys((def as z.core.$ZodObjectDef).shape) : [];
    const segment = path[i];
    if (def.type === 'object') schema = (def as z.core.$ZodObjectDef).shape[String(segment)];
    else if (def.type === 'array') schema = (def as z.core.$ZodArrayDef).element;
    else schema = undefined;
  }
  return [];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}

/** The known key closest to `key`, when it is close enough to be a likely typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

function unknownKeyLine(path: readonly Segment[], key: string): string {
  const known = knownKeys(path);
  const suggestion = closestKey(key, known);
  const hint = suggestion !== undefined ? `did you mean "${suggestion}"?` : `known keys: ${known.join(', ')}`;
  return `  ${fieldPath([...path, key])}: unknown key; ${hint}`;
}

function valueAt(input: unknown, path: readonly Segment[]): unknown {
  let value = input;
  for (const segment of path) value = value !== null && typeof value === 'object' ? (value as Record<Segment, unknown>)[segment] : undefined;
  return value;
}

const kind = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

/** One line per problem, in the order zod found them. */
export function issueLines(issues: readonly Issue[], input: unknown): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKeyLine(issue.path, key));
    // zod's own wording ("Invalid input: expected string, received number"); schema messages stay.
    if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
      const expected = issue.expected === 'array' || issue.expected === 'object' ? `an ${issue.expected}` : `a ${issue.expected}`;
      return [`  ${fieldPath(issue.path)}: expected ${expected}, got ${kind(valueAt(input, issue.path))}`];
    }
    return [`  ${fieldPath(issue.path)}: ${issue.message}`];
  });
}

/** Whether an issue compares fields (see CROSS_FIELD): checked only once files are merged. */
export const isCrossField = (issue: Issue): boolean => issue.code === 'custom' && issue.params?.crossField === true;
