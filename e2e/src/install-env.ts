/**
 * What the install test runs in: a machine without a compiler, as far as its commands can tell
 * (so the native files can only come prebuilt), and the README's own words.
 *
 * The build tools are hidden in a private mount namespace (root only): an empty, non-executable
 * file is bound over each, so `command -v cc` fails and nothing can run them. A PATH without them
 * would not do: the sandboxed commands resolve their names inside the sandbox, with the system's
 * directories, so PATH has to stay the usual one.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Compilers, linkers and build tools, with their target prefixes and version suffixes. */
const BUILD_TOOL = /(^|-)(cc|c\+\+|cpp|gcc|g\+\+|clang|clang\+\+|cmake|make|ninja|ld|as|tcc)(-[\d.]+)?$/;
const BIN_DIRS = ['/usr/local/bin', '/usr/bin', '/usr/sbin'];

/** Whether this process can make the namespace (unshare needs CAP_SYS_ADMIN). */
export const canHideBuildTools = process.getuid?.() === 0;

/**
 * The argv prefix that runs a command with every build tool hidden. `scratch` is a directory for
 * the empty file that is bound over them.
 */
export function withoutBuildTools(scratch: string): string[] {
  const empty = join(scratch, 'not-a-compiler');
  writeFileSync(empty, '', { mode: 0o644 });
  const tools = BIN_DIRS.flatMap((d) => {
    try {
      return readdirSync(d).filter((n) => BUILD_TOOL.test(n)).map((n) => join(d, n));
    } catch {
      return [];
    }
  });
  // Bound over the link's target too: on Debian `cc` -> /etc/alternatives/cc -> /usr/bin/gcc. A
  // dangling link runs nothing (rustc's `rust-clang` -> clang-14 without clang) and has nothing to cover.
  const script = `for t in "$@"; do [ "$t" = -- ] && break; if [ -e "$t" ]; then mount --bind ${empty} "$(readlink -f "$t")"; fi; shift; done; shift; exec "$@"`;
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-ec', script, 'hide', ...tools, '--'];
}

/** The build tools a shell can find on PATH (the test asserts there are none). */
export const BUILD_TOOL_CHECK = 'for t in cc gcc g++ c++ clang cmake make ld; do command -v $t || true; done';

/** The code blocks of a README section, in order. */
export function readmeBlocks(readme: string, heading: string, lang = 'sh'): string[] {
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
}
