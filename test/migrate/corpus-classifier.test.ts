/**
 * The corpus script's own reading of "silently wrong" (bench/ansible-corpus.ts): text patterns
 * of Jinja/Python constructs in a task's expressions, independent of the validator's parser.
 * A task that validates while one is found counts as silently wrong; the count must be 0.
 */
import { expect } from 'chai';
import { constructsIn } from '../../bench/ansible-corpus.js';

describe('corpus: Jinja/Python constructs in a task (silently-wrong detector)', () => {
  const cases: Array<[string, string[]]> = [
    ['- debug: { msg: hi }\n  when: enabled | bool\n', ['Jinja filter']],
    ['- debug: { msg: "{{ users | join(\',\') }}" }\n', ['Jinja filter']],
    ['- debug: { msg: hi }\n  when: x is defined\n', ['Jinja test (is ...)']],
    ["- debug: { msg: hi }\n  when: \"x in ['a', 'b']\"\n", ['Python in (list/string)']],
    ["- debug: { msg: \"{{ a ~ '-' ~ b }}\" }\n", ['Jinja ~']],
    ['- debug: { msg: "{{ True }}" }\n', ['Python True/False/None']],
    ["- debug: { msg: \"{{ lookup('env', 'HOME') }}\" }\n", ['lookup()']],
    ['- debug: { msg: hi }\n  when: a and not b\n', ['Python and/or/not']],
    ['- debug: { msg: "{{ n // 2 }}" }\n', ['Jinja //']],
  ];
  for (const [task, want] of cases) it(`finds ${want.join(', ')} in ${JSON.stringify(task)}`, () => expect(constructsIn(task)).to.deep.equal(want));

  it('finds nothing in JavaScript and outside expressions', () => {
    expect(constructsIn("- debug: { msg: \"{{ a || b }} {{ ['a'].includes(x) }} {{ 'True' }}\" }\n  when: bool(enabled) && vars.x !== undefined\n")).to.deep.equal([]);
    expect(constructsIn('- shell: ps aux | grep sshd | sort\n')).to.deep.equal([]);
  });
});
