/** unarchive's controller-side tar listing against archives GNU tar made: names, kinds, sizes, times, long names. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { archiveFormat, tarEntries } from '../../src/modules/files/lib/tar-listing.js';

describe('unarchive: tar listing on the controller', () => {
  let d: string;
  before(() => {
    d = mkdtempSync(join(tmpdir(), 'tsplay-tar-'));
    const long = 'l'.repeat(120);
    mkdirSync(join(d, 'src/app/sub'), { recursive: true });
    writeFileSync(join(d, 'src/app/sub/file.txt'), 'hello\n');
    writeFileSync(join(d, `src/app/${long}`), 'x');
    symlinkSync('sub/file.txt', join(d, 'src/app/link'));
    utimesSync(join(d, 'src/app/sub/file.txt'), 1700000000, 1700000000);
    for (const [fmt, flag] of [['gnu', '-czf'], ['posix', '-cf']] as const) {
      execFileSync('tar', [`--format=${fmt}`, flag, join(d, `${fmt}.tar${flag === '-czf' ? '.gz' : ''}`), '-C', join(d, 'src'), 'app']);
    }
  });
  after(() => rmSync(d, { recursive: true, force: true }));

  for (const file of ['gnu.tar.gz', 'posix.tar']) {
    it(`reads ${file}`, () => {
      const bytes = readFileSync(join(d, file));
      expect(archiveFormat(bytes)).to.equal(file.endsWith('.gz') ? 'gzip' : 'tar');
      const entries = tarEntries(bytes);
      const byPath = Object.fromEntries(entries.map((e) => [e.path, e]));
      expect(Object.keys(byPath).sort()).to.deep.equal(['app', 'app/link', `app/${'l'.repeat(120)}`, 'app/sub', 'app/sub/file.txt'].sort());
      expect(byPath['app/sub/file.txt']).to.include({ kind: 'file', size: 6, mtime: 1700000000 });
      expect(byPath['app']).to.include({ kind: 'directory', size: 0 });
      expect(byPath['app/link']).to.include({ kind: 'link' });
    });
  }

  it('refuses what is not tar', () => {
    expect(() => tarEntries(Buffer.from('PK\u0003\u0004 zip'))).to.throw('not a tar or tar.gz archive (zip)');
  });
});
