/**
 * Each agent's documented hook contract: which payloads carry a shell command, and what to print
 * for a decision. The payload arrives as JSON on stdin; the answer goes to stdout as JSON (an
 * empty answer means "no opinion": the agent's own permission flow goes on). Pure.
 *
 * - Claude Code (PreToolUse, tool "Bash"): `hookSpecificOutput.permissionDecision` "deny" with
 *   a reason; a rewrite is `updatedInput` (the whole tool input) with "allow", as the contract
 *   requires for a changed input.
 * - Codex (PreToolUse, tool "Bash"): the same shape as Claude Code; Codex releases from May 2026
 *   apply `updatedInput`, older ones ignore it (the command then runs unchanged).
 * - Cursor (beforeShellExecution): `permission` "deny" with `user_message`/`agent_message`; the
 *   event has no field to change the command, so Fence only denies and otherwise answers "allow"
 *   (an empty answer counts as a failure under `failClosed`).
 * - opencode: no JSON contract of its own; the plugin Fence installs (opencode-plugin.ts) sends
 *   `{ tool, args, cwd }` and applies `{ decision, reason | command }`.
 */
import type { HookDecision } from './decide.js';

export const AGENTS = ['claude', 'codex', 'cursor', 'opencode'] as const;
export type Agent = (typeof AGENTS)[number];

export interface ToolCall {
  /** Undefined: a shell call whose command Fence cannot read (denied: Fence fails closed). */
  readonly command: string | undefined;
  /** The agent's working directory for the call, when the payload says. */
  readonly cwd?: string;
}

export interface AgentContract {
  /** The shell call of a payload, or undefined when the call runs no shell command (another tool). */
  readonly toolCall: (payload: unknown) => ToolCall | undefined;
  readonly canRewrite: boolean;
  readonly answer: (decision: HookDecision, payload: unknown) => string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Claude Code and Codex share the PreToolUse shape. */
const preToolUse: AgentContract = {
  canRewrite: true,
  toolCall: (p) => {
    if (!isObject(p) || p.tool_name !== 'Bash') return undefined;
    return { command: isObject(p.tool_input) ? str(p.tool_input.command) : undefined, cwd: str(p.cwd) };
  },
  answer: (d, p) => {
    if (d.kind === 'pass') return '';
    const toolInput = isObject(p) && isObject(p.tool_input) ? p.tool_input : {};
    const output =
      d.kind === 'deny'
        ? { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: d.reason }
        : {
            hookEventName: 'PreToolUse',
            permissionDecision: 'allow',
            permissionDecisionReason: 'fence: runs in the Fence sandbox',
            updatedInput: { ...toolInput, command: d.command },
          };
    return `${JSON.stringify({ hookSpecificOutput: output })}\n`;
  },
};

const cursor: AgentContract = {
  canRewrite: false,
  toolCall: (p) => {
    if (!isObject(p) || (p.hook_event_name !== undefined && p.hook_event_name !== 'beforeShellExecution')) return undefined;
    return { command: str(p.command), cwd: str(p.cwd) };
  },
  answer: (d) =>
    `${JSON.stringify(d.kind === 'deny' ? { permission: 'deny', user_message: d.reason, agent_message: d.reason } : { permission: 'allow' })}\n`,
};

const opencode: AgentContract = {
  canRewrite: true,
  toolCall: (p) => {
    if (!isObject(p) || p.tool !== 'bash') return undefined;
    return { command: isObject(p.args) ? str(p.args.command) : undefined, cwd: str(p.cwd) };
  },
  answer: (d) =>
    `${JSON.stringify(d.kind === 'deny' ? { decision: 'deny', reason: d.reason } : d.kind === 'rewrite' ? { decision: 'rewrite', command: d.command } : { decision: 'allow' })}\n`,
};

export const contracts: Readonly<Record<Agent, AgentContract>> = { claude: preToolUse, codex: preToolUse, cursor, opencode };

/** The entry point's flag: `--claude-pre-tool-use`, … */
export const entryFlag = (agent: Agent): string => `--${agent}-pre-tool-use`;
