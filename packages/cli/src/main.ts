/**
 * The `fence` command: parse, dispatch, present. Fence's own failures print `fence: <message>`
 * (a stack trace only with -d) and exit 1; otherwise the exit status is the command's.
 */
import { isFenceError } from '@fence/core';
import { parseInvocation, type Invocation } from './args.js';
import { HELP } from './help.js';
import { PROXY_SERVICE_ARG } from './plan-cache/proxy-service.js';
import { VERSION } from './version.js';

async function dispatch(inv: Invocation, argv: readonly string[]): Promise<number> {
  switch (inv.kind) {
    case 'help':
      process.stdout.write(HELP);
      return 0;
    case 'version':
      process.stdout.write(`fence ${VERSION}\n`);
      return 0;
    case 'features':
      return (await import('./commands/features.js')).showFeatures(inv.flags);
    case 'config-show':
      return (await import('./commands/config.js')).configShow(inv.flags);
    case 'config-schema':
      return (await import('./commands/config.js')).configSchema();
    case 'check':
      return (await import('./commands/check.js')).selfCheck(inv.flags);
    case 'landlock-apply':
      return (await import('./commands/landlock-apply.js')).landlockApply(inv.command);
    case 'pre-tool-use':
      return (await import('./commands/pre-tool-use.js')).preToolUse(inv.agent, inv.flags);
    case 'hooks':
      return (await import('./commands/hooks.js')).hooksCommand(inv.action, inv.agents, inv.flags, inv.project);
    case 'import':
      return (await import('./commands/import.js')).importClaude(inv.save);
    case 'run': {
      // The words before the first `--` key a plan only when that `--` ended Fence's flags, as
      // fence-launch --fast reads it: in `fence echo -- hi` the command is `echo -- hi`, not `hi`.
      const cut = argv.indexOf('--');
      const terminated = cut >= 0 && typeof inv.command !== 'string' && inv.command.length === argv.length - cut - 1;
      return (await import('./commands/run.js')).runCommand(inv.flags, inv.command, terminated ? argv.slice(0, cut) : undefined);
    }
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  // The per-user proxy service a run started (plugins/proxy/src/service.ts), not a user's command.
  if (argv.length === 1 && argv[0] === PROXY_SERVICE_ARG) process.exit(await (await import('@fence/plugin-proxy')).serveProxies());
  const debug = argv.includes('-d') || argv.includes('--debug');
  const strict = argv.includes('--strict');
  try {
    return await dispatch(parseInvocation(argv), argv);
  } catch (e) {
    if (isFenceError(e)) {
      process.stderr.write(`fence: ${e.message}\n`);
      // --strict refused a weaker layer: the library's message names no flag, the feature report is the CLI's.
      if (strict && e.code === 'LAYER_UNAVAILABLE') process.stderr.write('fence: see fence --linux-features for what each layer needs on this machine\n');
      if (debug && e.cause instanceof Error) process.stderr.write(`${e.cause.stack}\n`);
    } else {
      const err = e instanceof Error ? e : new Error(String(e));
      process.stderr.write(`fence: internal error: ${err.message}\n`);
      if (debug) process.stderr.write(`${err.stack}\n`);
      else process.stderr.write('fence: run with -d for details and report it\n');
    }
    return 1;
  }
}
