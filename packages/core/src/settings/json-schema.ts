/**
 * The JSON Schema of a settings file (`fence config schema`), generated from the zod schema:
 * input shape (fields with defaults are optional), no additional properties anywhere, and the
 * VS Code hints that let editors accept comments and trailing commas in fence.jsonc.
 */
import { z } from 'zod';
import { SettingsSchema } from './schema.js';

export function jsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(SettingsSchema, {
    io: 'input',
    override: ({ jsonSchema: node }) => {
      if (node.type === 'object') node.additionalProperties = false;
    },
  });
  return { ...schema, allowComments: true, allowTrailingCommas: true };
}
