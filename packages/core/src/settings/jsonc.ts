/**
 * JSONC reading for settings files (comments and trailing commas allowed), with errors as
 * `file:line:col: why`. Values are built from the parse tree with own properties only, so a key
 * such as `"__proto__"` stays an (unknown) key instead of changing an object's prototype, and a
 * key given twice is an error instead of silently keeping the last one. Pure.
 */
import { parseTree, type Node, type ParseError } from 'jsonc-parser';
import { errors } from '../errors.js';

/** jsonc-parser's ParseErrorCode (a const enum, unusable under isolatedModules), in words. */
const PARSE_ERRORS: Record<number, string> = {
  1: 'unexpected character',
  2: 'invalid number',
  3: 'expected a property name in double quotes',
  4: 'expected a value',
  5: 'expected ":" after the property name',
  6: 'expected "," between entries',
  7: 'expected "}" to close the object',
  8: 'expected "]" to close the array',
  9: 'expected the end of the file after the value',
  10: 'invalid comment',
  11: 'unterminated comment',
  12: 'unterminated string',
  13: 'unterminated number',
  14: 'invalid unicode escape',
  15: 'invalid escape character',
  16: 'invalid character in a string',
};

function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function fail(file: string, text: string, offset: number, why: string): never {
  const { line, column } = position(text, offset);
  throw errors.settingsParse(file, line, column, why);
}

function toValue(node: Node, file: string, text: string): unknown {
  switch (node.type) {
    case 'object': {
      const object: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        const key = String(keyNode.value);
        if (Object.hasOwn(object, key)) fail(file, text, keyNode.offset, `duplicate key "${key}"`);
        const value = valueNode === undefined ? undefined : toValue(valueNode, file, text);
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return object;
    }
    case 'array':
      return (node.children ?? []).map((child) => toValue(child, file, text));
    default:
      return node.value;
  }
}

/** The value of a settings file's text; throws SETTINGS_PARSE naming `file:line:col`. */
export function parseSettingsText(text: string, file: string): unknown {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const problems: ParseError[] = [];
  const root = parseTree(source, problems, { allowTrailingComma: true, disallowComments: false });
  if (root === undefined && source.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '').trim() === '') {
    fail(file, source, 0, 'the file is empty; write {} for the default policy');
  }
  const first = problems[0];
  if (first !== undefined) fail(file, source, first.offset, PARSE_ERRORS[first.error] ?? 'syntax error');
  if (root === undefined) fail(file, source, 0, 'expected a value');
  return toValue(root, file, source);
}
