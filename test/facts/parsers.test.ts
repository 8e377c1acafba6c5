/**
 * Fact parsers, pyinfra style: every test/fixtures/facts/<fact>/<case>.json is one test, where
 * <fact> is the name of the builder function exported from src/facts (stat, debPackage, ...):
 *   { "args": [...builder args], "stdout": "...", "stderr"?: "...", "code"?: 0,
 *     "expected": <parsed value> } | { ..., "error": "substring of the parse error" }
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import type { Fact } from '../../src/core/module.js';
import * as F from '../../src/facts/index.js';

const ROOT = join(import.meta.dirname, '../fixtures/facts');

/** The core facts: each must have at least 3 fixtures. */
const CORE_FACTS: Record<string, (...args: never[]) => Fact> = {
  stat: F.stat,
  fileContent: F.fileContent,
  debPackage: F.debPackage,
  aptCandidate: F.aptCandidate,
  aptCacheAge: F.aptCacheAge,
  systemdUnit: F.systemdUnit,
  sysvService: F.sysvService,
  user: F.user,
  group: F.group,
  authorizedKeys: F.authorizedKeys,
  treeMismatch: F.treeMismatch,
  hostFacts: F.hostFacts,
};

/** Fixture folder name -> builder: the core facts plus any function exported by a file in src/facts. */
async function factBuilders(): Promise<Record<string, (...args: never[]) => Fact>> {
  const all: Record<string, (...args: never[]) => Fact> = {};
  const dir = join(import.meta.dirname, '../../src/facts');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
    try {
      const mod = (await import(pathToFileURL(join(dir, f)).href)) as Record<string, unknown>;
      for (const [name, v] of Object.entries(mod)) if (typeof v === 'function') all[name] = v as (...args: never[]) => Fact;
    } catch {
      // a fact file being written elsewhere: its fixtures then fail with "no builder"
    }
  }
  return { ...all, ...CORE_FACTS };
}
const FACT_BUILDERS = await factBuilders();

interface FactFixture {
  args: unknown[];
  stdout: string;
  stderr?: string;
  code?: number;
  expected?: unknown;
  error?: string;
}

describe('fact parsers', () => {
  it('every core fact has at least 3 fixtures and every fixture folder names a fact builder', () => {
    const dirs = readdirSync(ROOT);
    expect(dirs.filter((d) => !(d in FACT_BUILDERS))).to.deep.equal([]);
    expect(Object.keys(CORE_FACTS).filter((f) => !dirs.includes(f) || readdirSync(join(ROOT, f)).length < 3)).to.deep.equal([]);
  });

  for (const dir of readdirSync(ROOT).sort()) {
    describe(dir, () => {
      for (const file of readdirSync(join(ROOT, dir)).sort()) {
        it(file.replace(/\.json$/, ''), () => {
          const fx = JSON.parse(readFileSync(join(ROOT, dir, file), 'utf8')) as FactFixture;
          const fact = (FACT_BUILDERS[dir] as (...a: unknown[]) => Fact)(...fx.args);
          const out = { stdout: fx.stdout, stderr: fx.stderr ?? '', code: fx.code ?? 0 };
          if (fx.error !== undefined) {
            expect(() => fact.parse(out)).to.throw(fx.error);
          } else {
            expect(fact.parse(out)).to.deep.equal(fx.expected);
          }
        });
      }
    });
  }
});

describe('fact keys', () => {
  it('are unique per thing and shared by the same thing', () => {
    expect(F.stat('/etc/hosts').key).to.equal('stat:/etc/hosts');
    expect(F.stat('/etc//hosts/').key).to.equal(F.stat('/etc/hosts').key);
    expect(F.fileContent('/etc/hosts').key).to.equal('content:/etc/hosts');
    expect(F.debPackage('nginx=1.22').key).to.equal('pkg:nginx');
    expect(F.systemdUnit('nginx').key).to.equal(F.systemdUnit('nginx.service').key);
    expect(F.systemdUnit('apt-daily.timer').key).to.equal('unit:apt-daily.timer');
    expect(F.keys.unit('nginx')).to.equal('unit:nginx.service');
    const all = [F.stat('/x'), F.fileContent('/x'), F.debPackage('x'), F.aptCandidate('x'), F.systemdUnit('x'), F.sysvService('x'), F.user('x'), F.group('x'), F.authorizedKeys('x'), F.aptCacheAge(), F.hostFacts()];
    expect(new Set(all.map((f) => f.key)).size).to.equal(all.length);
  });

  it('debPackages builds one fact per package, plus candidates on request', () => {
    expect(Object.keys(F.debPackages(['nginx', 'curl=7.88']))).to.deep.equal(['pkg:nginx', 'pkg:curl']);
    expect(Object.keys(F.debPackages(['nginx'], { candidates: true }))).to.deep.equal(['pkg:nginx', 'apt-candidate:nginx']);
  });

  it('quote user input in commands', () => {
    const f = F.stat("/tmp/it's here; rm -rf /");
    expect(f.command).to.include(`'/tmp/it'\\''s here; rm -rf /'`);
    expect(f.command).to.not.include(' rm -rf / ');
  });
});
