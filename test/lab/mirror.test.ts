import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { debianMirrors, parseDeb822Sources, parseOneLineSources, pickDebianMirrors, readAptSources } from '../../src/lab/mirror.js';

describe('lab mirror', () => {
  it('parses one-line sources, with options and comments', () => {
    const text = '# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main contrib\ndeb-src http://m.example/debian bookworm main\n';
    expect(parseOneLineSources(text)).to.deep.equal([
      { types: ['deb'], uris: ['http://m.example/debian'], suites: ['bookworm'], components: ['main', 'contrib'] },
      { types: ['deb-src'], uris: ['http://m.example/debian'], suites: ['bookworm'], components: ['main'] },
    ]);
  });

  it('parses deb822 sources and skips disabled ones', () => {
    const text = [
      'Types: deb',
      '# http://snapshot.example/archive',
      'URIs: http://m.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://s.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Enabled: no',
      'Types: deb',
      'URIs: http://off.example/debian',
      'Suites: bookworm',
    ].join('\n');
    const sources = parseDeb822Sources(text);
    expect(sources.map((s) => s.uris[0])).to.deep.equal(['http://m.example/debian', 'http://s.example/debian-security']);
    expect(pickDebianMirrors(sources)).to.deep.equal({ main: 'http://m.example/debian', security: 'http://s.example/debian-security' });
  });

  it('falls back to any .../debian archive, and finds none on other distributions', () => {
    expect(pickDebianMirrors(parseOneLineSources('deb http://m.example/debian/ trixie main\n'))).to.deep.equal({ main: 'http://m.example/debian' });
    expect(pickDebianMirrors(parseOneLineSources('deb http://archive.ubuntu.com/ubuntu noble main\n'))).to.equal(undefined);
  });

  it('reads sources.list and sources.list.d, ignoring other files, and honours the override', () => {
    const apt = mkdtempSync(join(tmpdir(), 'tsplay-apt-'));
    try {
      mkdirSync(join(apt, 'sources.list.d'));
      writeFileSync(join(apt, 'sources.list.d', 'debian.sources'), 'Types: deb\nURIs: http://m.example/debian\nSuites: bookworm\nComponents: main\n');
      writeFileSync(join(apt, 'sources.list.d', 'old.list.disabled'), 'deb http://wrong.example/debian bookworm main\n');
      expect(readAptSources(apt)).to.have.length(1);
      expect(debianMirrors({}, apt)).to.deep.equal({ main: 'http://m.example/debian' });
      expect(debianMirrors({ TSPLAY_DEBIAN_MIRROR: 'http://o.example/debian/' }, apt)).to.deep.equal({ main: 'http://o.example/debian' });
      rmSync(join(apt, 'sources.list.d', 'debian.sources'));
      expect(() => debianMirrors({}, apt)).to.throw(UserError, /TSPLAY_DEBIAN_MIRROR/);
    } finally {
      rmSync(apt, { recursive: true, force: true });
    }
  });
});
