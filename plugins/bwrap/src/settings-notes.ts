/**
 * How the Linux layers hold the settings, for docs/settings.md (tools/gen-docs.mjs), by settings
 * section: core's schema says what each setting asks for on any platform, without naming a
 * mechanism. Every note states what the code does here; keep them in step with it.
 */
export const SETTINGS_NOTES: Readonly<Record<string, string>> = {
  filesystem:
    'bwrap\'s mounts hide what read isolation leaves out; Landlock grants reads beneath the readable paths only, and tells listing from reading: `allowExecute` entries can be run but not listed (without Landlock the mounts show them like `allowRead`).',
  devices:
    'bwrap builds the minimal `/dev` (`"auto"` is always minimal here): `null`, `zero`, `full`, `random`, `urandom`, `tty`, `/dev/ptmx`, a devpts of its own and `/dev/shm`. Each `allow` entry is checked when a session starts: it must exist, and its real path (symlinks resolved) must be under `/dev` and be a device node or a directory of them that only root can write. Landlock grants the passed devices read, write and ioctl.',
  command:
    '`"argv"` needs seccomp user notification and the native helper (`fence --linux-features` says whether this machine has them); without them the run refuses to start.',
  limits:
    'A cgroup per run where one is usable (root, or a delegated cgroup such as a systemd user scope); rlimits otherwise, with a warning: `memoryMB` becomes the address space of each process, `processes` the processes of the user (RLIMIT_NPROC, not for root), `cpuSeconds` the CPU time of each process. `fence --linux-features` and `-d` say which applies.',
};
