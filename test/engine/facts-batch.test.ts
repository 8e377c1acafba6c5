/**
 * The batch script's shape with bulk facts (facts/bulk.ts): one stat call for every path, one
 * tar for every content, helpers defined once, other facts in their own subshell; and what the
 * parsers get when a bulk section fails or the batch dies. The real commands run in
 * test/facts/bulk-live.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fact, type ExecResult } from '../../src/core/module.js';
import { quote } from '../../src/core/quote.js';
import { batchFacts } from '../../src/engine/facts-batch.js';
import { untar } from '../../src/facts/bulk.js';
import { fileContent, stat } from '../../src/facts/index.js';
import { fileTimes } from '../../src/facts/file-times.js';

const count = (s: string, needle: string) => s.split(needle).length - 1;
const paths = Array.from({ length: 30 }, (_, i) => `/etc/app/file ${i}.conf`);

/** The marker line of piece i, with exit code. */
function markerOf(script: string): string {
  return /@@tsplay-fact-[0-9a-f]+@@/.exec(script)![0];
}

describe('facts batch: bulk reads', () => {
  it('30 files (stat + content each): one stat, one tar, one sha256sum; helpers once; no subshell per fact', () => {
    const facts = paths.flatMap((p) => [stat(p), fileContent(p)]);
    const { script } = batchFacts(facts);
    expect(count(script, ' --printf ')).to.equal(2); // the lstat and stat -L helpers, once each
    expect(count(script, '\ntsp_lstat ')).to.equal(1);
    expect(count(script, '\ntsp_follow ')).to.equal(1);
    expect(count(script, 'tsp_small() {')).to.equal(1);
    expect(count(script, '\ntsp_small ')).to.equal(1);
    expect(count(script, 'sha256sum')).to.equal(1);
    expect(count(script, 'tar -c')).to.equal(1);
    expect(count(script, 'base64')).to.equal(1);
    expect(count(script, '( ')).to.equal(0);
    for (const p of paths) expect(count(script, quote(p))).to.be.greaterThan(0);
    // The pieces: lstat, follow, target, small, big.
    expect(count(script, markerOf(script))).to.equal(5);
  });

  it('facts without a bulk form keep their own subshell, after the bulk sections', () => {
    const other = fact('x', 'echo hello', (o) => o.stdout);
    const { script } = batchFacts([stat('/a'), other, fileTimes('/a', ['2020-01-01 00:00:00'])]);
    expect(script).to.match(/\n\( echo hello\n\) <\/dev\/null; printf/);
    expect(script).to.include("( if [ -e /a ]; then stat -c '%X %Y'");
    expect(script.indexOf('tsp_lstat /a')).to.be.lessThan(script.indexOf('( echo hello'));
  });

  it('parsers get the text of their own command, in the order the facts were given', () => {
    const other = fact('x', 'echo hello', (o) => o);
    const facts = [stat('/a b'), other, stat('/missing')];
    const batch = batchFacts(facts);
    const m = markerOf(batch.script);
    const lstat = 'regular file|640|0|0|root|adm|12|1|2|3|4|1|5|/a b\0';
    const stdout = `${lstat}\n${m} 0 1\n\n${m} 1 0\nhello\n\n${m} 2 0\n`;
    const parts = batch.split({ stdout, stderr: '', code: 0 });
    expect(parts[0]).to.deep.equal({ stdout: 'regular file|640|root|adm|0|0|12\n', stderr: '', code: 0 });
    expect(parts[1]).to.deep.include({ stdout: 'hello\n', code: 0 });
    expect(parts[2]).to.deep.equal({ stdout: 'absent\n', stderr: '', code: 0 });
    expect(stat('/a b').parse(parts[0]!)).to.deep.include({ exists: true, type: 'file', mode: '0640', group: 'adm', size: 12 });
  });

  it('a bulk section that fails (stat missing: 127) fails every bulk fact; the others keep their output', () => {
    const other = fact('x', 'echo hello', (o) => o);
    const facts = [stat('/a'), fileContent('/a'), other];
    const batch = batchFacts(facts);
    const m = markerOf(batch.script);
    const stdout = `\n${m} 0 127\n\n${m} 1 0\n\n${m} 2 0\n\n${m} 3 0\n\n${m} 4 0\nhello\n\n${m} 5 0\n`;
    const parts = batch.split({ stdout, stderr: 'sh: stat: not found\n', code: 0 });
    expect(parts[0]).to.deep.equal({ stdout: '', stderr: 'sh: stat: not found\n', code: 127 });
    expect(() => stat('/a').parse(parts[0]!)).to.throw(/could not read stat of \/a: sh: stat: not found/);
    expect(() => fileContent('/a').parse(parts[1]!)).to.throw(/could not read the content of \/a/);
    expect(parts[2]).to.deep.include({ stdout: 'hello\n', code: 0 });
  });

  it('a batch that died before the bulk reads ended fails them with its exit code', () => {
    const batch = batchFacts([stat('/a'), stat('/b')]);
    const parts: ExecResult[] = batch.split({ stdout: '', stderr: 'Killed', code: 137 });
    expect(parts.map((p) => p.code)).to.deep.equal([137, 137]);
    expect(() => stat('/a').parse(parts[0]!)).to.throw(/could not read/);
  });

  it('untar reads long names and keeps every file of a real tar', function () {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-untar-'));
    try {
      const long = join(dir, `n${'x'.repeat(150)}`);
      writeFileSync(long, 'long\n');
      writeFileSync(join(dir, 'a'), Buffer.from([0, 1, 2]));
      const tar = execFileSync('tar', ['-c', '-P', '-b', '1', '-f', '-', long, join(dir, 'a')]);
      const files = untar(tar);
      expect([...files.keys()]).to.deep.equal([long, join(dir, 'a')]);
      expect(files.get(long)!.toString()).to.equal('long\n');
      expect([...files.get(join(dir, 'a'))!]).to.deep.equal([0, 1, 2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
