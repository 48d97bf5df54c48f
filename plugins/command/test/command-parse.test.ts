import { describe, expect, it } from 'vitest';
import { commandRuleProblem, splitShellCommands } from '../src/command-parse.js';

describe('splitShellCommands', () => {
  it.each([
    ['echo hi && ls -l', [['echo', 'hi'], ['ls', '-l']]],
    ['a; b || c | d & e\nf', [['a'], ['b'], ['c'], ['d'], ['e'], ['f']]],
    ['a |& b', [['a'], ['b']]],
  ])('splits %j at every operator', (script, expected) => {
    expect(splitShellCommands(script)).toEqual(expected);
  });

  it('removes quotes and escapes', () => {
    expect(splitShellCommands(`echo 'a;b' "c\\"d" e\\ f $'g\\'h'`)).toEqual([['echo', 'a;b', 'c"d', 'e f', "g'h"]]);
  });

  it('joins quoted parts of one word', () => {
    expect(splitShellCommands(`g"i"'t' push`)).toEqual([['git', 'push']]);
  });

  it('drops leading assignments but keeps a quoted one as the command', () => {
    expect(splitShellCommands('X=1 Y="a b" git push')).toEqual([['git', 'push']]);
    expect(splitShellCommands('"X=1" git')).toEqual([['X=1', 'git']]);
    expect(splitShellCommands('git commit -m X=1')).toEqual([['git', 'commit', '-m', 'X=1']]);
  });

  it('finds commands inside $( ), backticks, subshells and process substitution', () => {
    expect(splitShellCommands('echo $(sudo id) `rm -rf /`')).toContainEqual(['sudo', 'id']);
    expect(splitShellCommands('echo $(sudo id) `rm -rf /`')).toContainEqual(['rm', '-rf', '/']);
    expect(splitShellCommands('echo "$(git push)"')).toContainEqual(['git', 'push']);
    expect(splitShellCommands('(cd x && git push)')).toEqual([['cd', 'x'], ['git', 'push']]);
    expect(splitShellCommands('diff <(sudo cat a) b')).toContainEqual(['sudo', 'cat', 'a']);
    expect(splitShellCommands('echo $(echo $(reboot))')).toContainEqual(['reboot']);
  });

  it('does not treat arithmetic as a command', () => {
    expect(splitShellCommands('echo $((1 + 2))')).toEqual([['echo', '$((1 + 2))']]);
  });

  it('drops redirections with their targets', () => {
    expect(splitShellCommands('git push 2>&1 >/dev/null <in &>>log')).toEqual([['git', 'push']]);
    expect(splitShellCommands('>out git push')).toEqual([['git', 'push']]);
  });

  it('skips heredoc bodies, comments and line continuations', () => {
    expect(splitShellCommands("cat <<'EOF'\nsudo x\nEOF\nls")).toEqual([['cat'], ['ls']]);
    expect(splitShellCommands('echo a # sudo reboot')).toEqual([['echo', 'a']]);
    expect(splitShellCommands('git \\\npush')).toEqual([['git', 'push']]);
  });

  it('drops reserved words at the start of a command', () => {
    expect(splitShellCommands('if true; then sudo x; fi')).toEqual([['true'], ['sudo', 'x']]);
    expect(splitShellCommands('f() { reboot; }')).toContainEqual(['reboot']);
    expect(splitShellCommands('! git push')).toEqual([['git', 'push']]);
  });

  it('keeps going after an unterminated quote', () => {
    expect(splitShellCommands(`git push 'origin`)).toEqual([['git', 'push', 'origin']]);
  });
});

describe('commandRuleProblem', () => {
  it('accepts one command prefix', () => {
    expect(commandRuleProblem('git push')).toBeUndefined();
  });

  it('refuses an empty rule and a rule with two commands', () => {
    expect(commandRuleProblem('  ')).toMatch(/names no command/);
    expect(commandRuleProblem('a && b')).toMatch(/holds 2 commands/);
  });
});
