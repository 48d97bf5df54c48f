/**
 * How the Seatbelt layer holds the settings on macOS, for docs/settings.md (tools/gen-docs.mjs),
 * by settings section (see the bwrap plugin's for Linux). Every note states what the code does.
 */
export const SETTINGS_NOTES: Readonly<Record<string, string>> = {
  filesystem: 'Seatbelt cannot tell listing a directory from reading it: `allowExecute` entries read like `allowRead`.',
  devices: 'Ignored: the sandbox shows the host\'s `/dev`, and the profile lets the command write to a few devices only (`/dev/null`, `/dev/zero`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, terminals).',
  command: '`"argv"` is not available: no layer reports the sandbox\'s execve calls, so the run refuses to start.',
  limits: 'Only `wallSeconds` is enforced; the other limits are ignored, without a warning.',
};
