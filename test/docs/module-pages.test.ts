/**
 * docs/modules/<module>.md are generated from the schemas (`npm run docs`): this fails when a
 * page is missing, stale, or left over from a module that no longer exists, like the README
 * module table test. Hand-written guides keep their text, with the reference as last section.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModulePages, modulePage, writeModulePages } from '../../src/docs/module-pages.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';

const root = join(import.meta.dirname, '..', '..');
const pick = (...names: string[]) => BUNDLED_MODULES.filter((m) => names.includes(m.name));

describe('docs/modules pages', () => {
  it('match the registered modules (regenerate with `npm run docs`)', () => {
    expect(checkModulePages(join(root, 'docs', 'modules'), BUNDLED_MODULES)).to.deep.equal({ missing: [], stale: [], extra: [] });
  });

  it('are linked from the README module table, every link to a page that exists', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const m of BUNDLED_MODULES) {
      expect(readme, m.name).to.include(`| [\`${m.name}\`](docs/modules/${m.name}.md) |`);
      expect(existsSync(join(root, 'docs', 'modules', `${m.name}.md`)), m.name).to.equal(true);
    }
  });

  describe('the check and the writer', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tsplay-pages-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('finds a missing, a stale and a left-over page', () => {
      writeModulePages(dir, pick('group', 'fail', 'debug'));
      expect(checkModulePages(dir, pick('group', 'fail', 'debug'))).to.deep.equal({ missing: [], stale: [], extra: [] });
      rmSync(join(dir, 'group.md'));
      writeFileSync(join(dir, 'fail.md'), readFileSync(join(dir, 'fail.md'), 'utf8').replace('## Parameters', '## Params'));
      expect(checkModulePages(dir, pick('group', 'fail'))).to.deep.equal({ missing: ['group.md'], stale: ['fail.md'], extra: ['debug.md'] });
    });

    it('keeps a hand-written guide and appends the reference as its last section', () => {
      const guide = '# group\n\nWhy groups matter, by hand.\n';
      writeFileSync(join(dir, 'group.md'), guide);
      expect(checkModulePages(dir, pick('group')).stale).to.deep.equal(['group.md']);
      writeModulePages(dir, pick('group'));
      const text = readFileSync(join(dir, 'group.md'), 'utf8');
      expect(text.startsWith(guide)).to.equal(true);
      expect(text).to.include('## Reference').and.include('### Parameters').and.include('| `gid` | int |');
      expect(text).to.not.include('# `group`');
      // Writing again changes nothing; a guide edit outside the reference is kept.
      writeModulePages(dir, pick('group'));
      expect(readFileSync(join(dir, 'group.md'), 'utf8')).to.equal(text);
      writeFileSync(join(dir, 'group.md'), text.replace('by hand', 'by hand, edited'));
      expect(checkModulePages(dir, pick('group')).stale).to.deep.equal([]);
    });

    it('removes the generated page of a module that is gone, never a guide', () => {
      writeModulePages(dir, pick('group', 'fail'));
      writeFileSync(join(dir, 'old-guide.md'), '# old\n\ntext\n');
      const { removed } = writeModulePages(dir, pick('group'));
      expect(removed).to.deep.equal(['fail.md']);
      expect(existsSync(join(dir, 'old-guide.md'))).to.equal(true);
      expect(checkModulePages(dir, pick('group')).extra).to.deep.equal(['old-guide.md']);
    });

    it('a page is the module reference between markers, with parameters, result and examples', () => {
      const page = modulePage(pick('group')[0]!);
      expect(page).to.match(/^<!-- module-reference: [^\n]*-->\n# `group`\n\nCreate, change or remove a local group\.\n/);
      expect(page).to.include('| `state` | "present" \\| "absent" |  | `"present"` | Whether the group should exist |');
      expect(page).to.include('## Registered result').and.include('### A group with a fixed gid\n\n```yaml\n- name: app group\n');
      expect(page.trimEnd().endsWith('<!-- /module-reference -->')).to.equal(true);
    });
  });
});
