import { describe, expect, it } from 'vitest';
import { jsonSchema } from '../../src/settings/json-schema.js';

type Node = { type?: string; additionalProperties?: unknown; properties?: Record<string, unknown> };

describe('jsonSchema', () => {
  const schema = jsonSchema() as { $defs: Record<string, Node>; allowComments: boolean };

  it('forbids additional properties in every object', () => {
    const objects = Object.values(schema.$defs).filter((d) => d.type === 'object');
    expect(objects.map((o) => o.additionalProperties)).toEqual(objects.map(() => false));
    expect(objects.length).toBe(8);
  });

  it('allows "$schema" and makes no field required', () => {
    const root = schema.$defs.FenceSettings as Node & { required?: string[] };
    expect(root.properties).toHaveProperty('$schema');
    expect(root.required).toBeUndefined();
  });

  it('tells editors that comments and trailing commas are fine', () => {
    expect(schema.allowComments).toBe(true);
  });
});
