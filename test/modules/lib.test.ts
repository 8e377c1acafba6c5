/** Helpers of the built-in modules: modes (checked against the real chmod), shell splitting, step joining. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { normalizeOctal, recursiveModes, resolveMode, sameId } from '../../src/modules/lib/mode.js';
import { shellSplit } from '../../src/modules/commands/lib/shlex.js';
import { joinExecs } from '../../src/modules/lib/steps.js';

describe('modes', () => {
  it('normalizes octal modes to four digits', () => {
    expect(normalizeOctal('644')).to.equal('0644');
    expect(normalizeOctal('0644')).to.equal('0644');
    expect(normalizeOctal('4755')).to.equal('4755');
    expect(normalizeOctal('02775')).to.equal('2775');
  });

  it('resolves symbolic modes exactly like chmod does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-mode-'));
    try {
      const specs = ['u=rw,g=r,o=', 'u+x', 'a-w', 'go-rwx', 'u=rwX,g=rX,o=rX', '+x', 'g+s', 'o+t', 'u=rwx,g=rx,o=', 'a=r', 'ug+w,o-r', 'u-x+w'];
      const starts = [0o644, 0o755, 0o600, 0o700, 0o4711];
      for (const isDir of [false, true]) {
        for (const start of starts) {
          for (const spec of specs) {
            const p = join(dir, `${isDir ? 'd' : 'f'}-${start.toString(8)}-${spec.replace(/[^a-z0-9]/gi, '_')}`);
            if (isDir) mkdirSync(p);
            else writeFileSync(p, '');
            chmodSync(p, start);
            execFileSync('chmod', [spec, p], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
            let real = (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');
            // setuid/setgid on directories follow GNU-specific rules that tsplay does not model: not compared.
            if (isDir && /[st]/.test(spec) === false) real = real.replace(/^[0-7]/, (d) => String(Number(d) & 0b001));
            const ours = resolveMode(spec, start.toString(8).padStart(4, '0'), isDir)!;
            const oursCmp = isDir && !/[st]/.test(spec) ? ours.replace(/^[0-7]/, (d) => String(Number(d) & 0b001)) : ours;
            expect(oursCmp, `${spec} on ${isDir ? 'dir' : 'file'} ${start.toString(8)}`).to.equal(real);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves a symbolic mode unresolved when the current mode is unknown', () => {
    expect(resolveMode('u+x', undefined, false)).to.equal(undefined);
    expect(resolveMode('0640', undefined, false)).to.equal('0640');
  });

  it('gives per-kind modes for recursion, or none for relative specs', () => {
    expect(recursiveModes('0750')).to.deep.equal({ dir: '0750', file: '0750', fileExec: '0750' });
    expect(recursiveModes('u=rwX,g=rX,o=')).to.deep.equal({ dir: '0750', file: '0640', fileExec: '0750' });
    expect(recursiveModes('u+x')).to.equal(undefined);
    expect(recursiveModes('u=rw,g=r')).to.equal(undefined); // o not covered: depends on the file
  });

  it('matches owners by name or numeric id', () => {
    expect(sameId('www-data', 'www-data', 33)).to.equal(true);
    expect(sameId('33', 'www-data', 33)).to.equal(true);
    expect(sameId('34', 'www-data', 33)).to.equal(false);
  });
});

describe('shellSplit', () => {
  it('splits like sh, without expansion', () => {
    expect(shellSplit(`echo "a b" 'c d' e\\ f $HOME "x\\"y" ''`)).to.deep.equal(['echo', 'a b', 'c d', 'e f', '$HOME', 'x"y', '']);
    expect(shellSplit('  ls   -l  ')).to.deep.equal(['ls', '-l']);
    expect(shellSplit(`a'b'"c"`)).to.deep.equal(['abc']);
  });

  it('rejects unclosed quotes', () => {
    expect(() => shellSplit(`echo "oops`)).to.throw('unclosed "');
  });
});

describe('joinExecs', () => {
  it('joins plain consecutive execs and keeps the others apart', () => {
    const steps = joinExecs([
      { kind: 'exec', cmd: 'a' },
      { kind: 'exec', cmd: 'b' },
      { kind: 'exec', cmd: 'c', stdin: 'x' },
      { kind: 'put', path: '/p', content: '' },
      { kind: 'exec', cmd: 'd' },
    ]);
    expect(steps.map((s) => (s.kind === 'exec' ? s.cmd : `put:${s.path}`))).to.deep.equal(['a && b', 'c', 'put:/p', 'd']);
  });
});
