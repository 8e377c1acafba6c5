/**
 * Jinja templates rendered by tsplay (src/playbook/jinja.ts) against the real Jinja2: each
 * fixture in test/fixtures/jinja must render to the bytes of its `.out`, which Jinja2 (set up
 * as Ansible's template module, test/helpers/jinja2-render.py) produced. When python3 with
 * jinja2 is on this machine, the `.out` files are checked against it too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { renderJinja } from '../../src/playbook/jinja.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'jinja');
const HARNESS = join(import.meta.dirname, '..', 'helpers', 'jinja2-render.py');
const cases = readdirSync(DIR).filter((f) => f.endsWith('.j2') && existsSync(join(DIR, f.replace(/\.j2$/, '.json'))));
const varsOf = (name: string) => JSON.parse(readFileSync(join(DIR, name.replace(/\.j2$/, '.json')), 'utf8')) as Record<string, unknown>;

/** Jinja2's renders of every fixture, or undefined when python3 with jinja2 is not here. */
function jinja2(): Record<string, { out?: string; error?: string }> | undefined {
  if (spawnSync('python3', ['-c', 'import jinja2, yaml, packaging'], { stdio: 'ignore' }).status !== 0) return undefined;
  const input = JSON.stringify({ dir: DIR, cases: cases.map((name) => ({ name, vars: varsOf(name) })) });
  return JSON.parse(execFileSync('python3', [HARNESS], { input, encoding: 'utf8' }));
}

describe('playbook/jinja: the same bytes as Jinja2', () => {
  const reference = jinja2();
  if (process.env.JINJA_FIXTURES === 'write') {
    if (!reference) throw new Error('JINJA_FIXTURES=write needs python3 with jinja2, PyYAML and packaging');
    for (const name of cases) {
      const r = reference[name]!;
      if (r.error) throw new Error(`${name}: Jinja2 failed: ${r.error}`);
      writeFileSync(join(DIR, name.replace(/\.j2$/, '.out')), r.out!);
    }
  }

  for (const name of cases) {
    it(name, () => {
      const expected = readFileSync(join(DIR, name.replace(/\.j2$/, '.out')), 'utf8');
      if (reference) expect(reference[name], 'the .out file is what Jinja2 renders').to.deep.equal({ out: expected });
      expect(renderJinja(join(DIR, name), varsOf(name))).to.equal(expected);
    });
  }
});
