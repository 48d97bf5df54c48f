/**
 * Edits of a JSON or JSONC file that touch only the text they add or remove: comments, key order,
 * spacing and line ends elsewhere stay byte for byte (jsonc-parser's own `modify` reformats the
 * neighbours of an insertion). An appended child is removed exactly: from the end of its previous
 * sibling to its own end. Pure.
 */
import { findNodeAtLocation, getNodeValue, parseTree, type Node, type ParseError } from 'jsonc-parser';

export class JsonEditError extends Error {}

/** The parse tree of `text`; throws JsonEditError naming line:column. */
export function parseJsonc(text: string): Node {
  const problems: ParseError[] = [];
  const root = parseTree(text, problems, { allowTrailingComma: true, disallowComments: false });
  const first = problems[0];
  if (first !== undefined || root === undefined) {
    const offset = first?.offset ?? 0;
    const before = text.slice(0, offset);
    throw new JsonEditError(`line ${before.split('\n').length}, column ${offset - before.lastIndexOf('\n')}: not valid JSON`);
  }
  return root;
}

export const nodeAt = (root: Node, path: readonly (string | number)[]): Node | undefined => findNodeAtLocation(root, [...path]);
export const valueOf = (node: Node): unknown => getNodeValue(node);

const lineIndent = (text: string, offset: number): string => {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
};

/** The file's own indentation step (its first indented line), else two spaces. */
const indentUnit = (text: string): string => /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';

const render = (value: unknown, unit: string, indent: string, eol: string): string =>
  JSON.stringify(value, null, unit).split('\n').join(`${eol}${indent}`);

/** `text` with `{ key: value }` (objects) or `value` (arrays) added as the container's last child. */
export function appendChild(text: string, container: Node, value: unknown, key?: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const unit = indentUnit(text);
  const kids = container.children ?? [];
  const last = kids[kids.length - 1];
  const containerIndent = lineIndent(text, container.offset);
  const indent = last !== undefined ? lineIndent(text, last.offset) : containerIndent + unit;
  const item = `${key === undefined ? '' : `${JSON.stringify(key)}: `}${render(value, unit, indent, eol)}`;
  if (last !== undefined) {
    const at = last.offset + last.length;
    return `${text.slice(0, at)},${eol}${indent}${item}${text.slice(at)}`;
  }
  const end = container.offset + container.length - 1;
  return `${text.slice(0, container.offset + 1)}${eol}${indent}${item}${eol}${containerIndent}${text.slice(end)}`;
}

/** `text` without the container's child `index` (a property node for objects). */
export function removeChild(text: string, container: Node, index: number): string {
  const kids = container.children ?? [];
  const node = kids[index]!;
  if (kids.length === 1) return `${text.slice(0, container.offset + 1)}${text.slice(container.offset + container.length - 1)}`;
  if (index > 0) {
    const prev = kids[index - 1]!;
    return `${text.slice(0, prev.offset + prev.length)}${text.slice(node.offset + node.length)}`;
  }
  return `${text.slice(0, node.offset)}${text.slice(kids[1]!.offset)}`;
}
