/** `fence --help`: kept as plain text so printing it loads nothing else. */
export const HELP = `fence: run a command in a sandbox it cannot leave

Usage:
  fence [flags] -- <command> [args...]   run argv exactly as given (no shell)
  fence [flags] -c '<shell string>'       run the string with bash -c
  fence config show [flags]               print the resolved policy and where each part came from
  fence config schema                     print the JSON Schema of the settings file
  fence check [flags]                     self-test every active layer against real attacks
  fence --linux-features                  print what this machine supports and exit
  fence hooks print|install|uninstall --claude|--codex|--cursor|--opencode [--project] [-s file|-t name]
                                          show, add or remove the agent's hook that checks each shell
                                          tool call with the command policy and runs it through fence -c
  fence import --claude [--save]          Claude Code's permission rules as Fence settings extending
                                          the code template (--save writes ./fence.json)
  fence --claude-pre-tool-use             the hook's entry point (also --codex-, --cursor-,
                                          --opencode-pre-tool-use): a tool call as JSON on stdin

Flags:
  -s, --settings <file>   settings file (JSON or JSONC); default: discovered (fence.jsonc,
                          fence.json in this or a parent directory, ~/.config/fence/, ~/.fence.json)
  -t, --template <name>   start from a built-in template: default-deny, workspace-write, npm-install,
                          pip-install, git-readonly, local-dev-server, agent-api-only, code,
                          code-relaxed
  -c <string>             shell string to run with bash -c
  -p, --port <n>          expose sandbox port n on the host's 127.0.0.1:n (repeatable)
  -m, --monitor           print blocked actions as they happen, and a summary at exit
  -d, --debug             print how the sandbox is built and every decision
      --json              with -m or -d: one JSON object per event on stderr
      --strict            fail instead of degrading when a layer is unavailable or a limit
                          cannot hold for the sandbox as a whole
      --plugin <package>  load an extra plugin (repeatable)
  -v, --version           print the version
  -h, --help              print this help

Examples:
  fence -- npm test                                   no network, writes only to the private /tmp
  fence -t workspace-write -- make                    may write the working directory
  fence -t npm-install -m -- npm ci                   registry only; show what was blocked
  fence -s ./fence.jsonc -c 'curl -sI https://github.com && echo ok'
  fence -p 3000 -t local-dev-server -- npm run dev    reach the dev server on 127.0.0.1:3000
  fence -t code -- claude                             a coding agent: its API, registries, git hosts
  fence hooks install --claude                        check each of Claude Code's shell commands

Exit status: the command's own; 128+N if it died of signal N; 1 for Fence's own errors.
Docs: docs/settings.md (settings), docs/agents.md (coding agents), docs/ (layers, hooks, performance).
`;
