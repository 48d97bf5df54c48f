/**
 * The opencode plugin `fence hooks install --opencode` writes. opencode has no command hooks: a
 * plugin's `tool.execute.before` sees each tool call, may change `output.args`, and refuses the
 * call by throwing. This one asks `fence --opencode-pre-tool-use` and applies its answer; when
 * Fence cannot answer, the call is refused (fail closed). Pure: returns the file's text.
 */
import { entryFlag } from './contracts.js';
import type { Pin } from './decide.js';

/** The first line of the file: how uninstall knows the file is Fence's. */
export const OPENCODE_MARKER = '// fence: opencode plugin written by `fence hooks install --opencode`';

export function opencodePlugin(pin: Pin): string {
  const argv = [
    entryFlag('opencode'),
    ...(pin.settings !== undefined ? ['--settings', pin.settings] : []),
    ...(pin.template !== undefined ? ['--template', pin.template] : []),
  ];
  return `${OPENCODE_MARKER}; \`fence hooks uninstall --opencode\` removes it.
// Each bash tool call is checked against Fence's command policy: a denied command is refused with
// the reason, an allowed one runs through \`fence -c\` (unchanged when opencode runs inside Fence).
import { spawnSync } from 'node:child_process';

const FENCE_ARGS = ${JSON.stringify(argv)};

export const FencePlugin = async ({ directory }) => ({
  'tool.execute.before': async (input, output) => {
    if (input.tool !== 'bash') return;
    const payload = JSON.stringify({ tool: input.tool, args: output.args, cwd: directory });
    const run = spawnSync('fence', FENCE_ARGS, { input: payload, encoding: 'utf8' });
    let answer;
    try {
      answer = JSON.parse(run.stdout);
    } catch {
      throw new Error(\`fence: the command policy could not be checked (\${run.error?.message ?? run.stderr?.trim()}); the command was not run\`);
    }
    if (answer.decision === 'deny') throw new Error(answer.reason);
    if (answer.decision === 'rewrite') output.args.command = answer.command;
  },
});
`;
}
