/**
 * Fact parser fixtures, pyinfra style: every test/fixtures/modules/{install-ufw,docker-firewall}/facts/*.json
 * is one test: `{ description, fact, args, stdout: [lines], code, expected }`. The outputs were
 * captured from the real ufw 0.36 and iptables 1.8 (nf_tables) in a network namespace.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Fact } from '../../src/core/module.js';
import { iptablesChain } from '../../src/facts/iptables.js';
import { sshPeers, ufwState } from '../../src/facts/ufw.js';

const FACTS: Record<string, (...args: string[]) => Fact> = { ufwState, sshPeers, iptablesChain: (chain) => iptablesChain(chain!) };
const ROOT = join(import.meta.dirname, '../fixtures/modules');

interface FactFixture {
  description: string;
  fact: string;
  args: string[];
  stdout: string[] | string;
  code: number;
  expected: unknown;
}

describe('firewall fact fixtures', () => {
  for (const mod of ['install-ufw', 'docker-firewall']) {
    const dir = join(ROOT, mod, 'facts');
    describe(mod, () => {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
        const fx = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FactFixture;
        it(`${file.replace(/\.json$/, '')}: ${fx.description}`, () => {
          const make = FACTS[fx.fact];
          expect(make, `unknown fact ${fx.fact}`).to.be.a('function');
          const stdout = Array.isArray(fx.stdout) ? fx.stdout.join('\n') + '\n' : fx.stdout;
          expect(make!(...fx.args).parse({ stdout, stderr: '', code: fx.code })).to.deep.equal(fx.expected);
        });
      }
    });
  }

  it('a failing iptables is an error, not an empty chain', () => {
    expect(() => iptablesChain('DOCKER-USER').parse({ stdout: 'version:iptables v1.8.9 (legacy)\nchain:error\njump:no\n', stderr: 'Permission denied (you must be root)', code: 0 })).to.throw(
      'could not read iptables chain DOCKER-USER: Permission denied (you must be root)',
    );
  });
});
