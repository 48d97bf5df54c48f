/**
 * docs/hooks.md is the plugin API's reference: every hook it lists must exist with that kind, and
 * every hook the kernel declares must be listed (the same for the prepare stages).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHooks, PrepareStage } from '../src/index.js';

const text = readFileSync(path.join(import.meta.dirname, '../../../docs/hooks.md'), 'utf8');
/** The first two cells of each row of the table under `heading`. */
function table(heading: string): [string, string][] {
  const section = text.split(/^#+ /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`docs/hooks.md has no section "${heading}"`);
  return [...section.matchAll(/^\| `([^`]+)` \| ([^|]+?) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]);
}

describe('docs/hooks.md', () => {
  it('lists every kernel hook with its kind, and no other', () => {
    const declared = Object.entries(createHooks()).map(([name, hook]) => [name, hook.constructor.name]);
    const documented = table('Kernel hooks').map(([name, kind]) => [name, kind.split(',')[0]!]);
    expect(documented).toEqual(declared);
  });

  it('lists every prepare stage with its value', () => {
    expect(Object.fromEntries(table('Prepare stages').map(([name, value]) => [name, Number(value)]))).toEqual(PrepareStage);
  });

});
