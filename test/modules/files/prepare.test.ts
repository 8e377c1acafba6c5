/** The controller-side `prepare` of copy and template: reading files/ and rendering templates/. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PrepareContext } from '../../../src/core/module.js';
import copy from '../../../src/modules/files/copy.js';
import template from '../../../src/modules/files/template.js';

describe('prepare (controller side)', () => {
  let dir: string;
  const asked: string[] = [];
  const ctx = (): PrepareContext => ({
    host: 'web1',
    vars: { port: 8080 },
    findFile: (kind, name) => {
      asked.push(`${kind}/${name}`);
      return join(dir, name);
    },
    renderTemplate: async (file) => `rendered ${file} for port 8080\n`,
  });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-prepare-'));
    writeFileSync(join(dir, 'motd'), 'héllo\n');
    writeFileSync(join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0xff, 0x00]));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('copy reads a text file from files/ as UTF-8', async () => {
    const p = await copy.prepare!(copy.params.parse({ src: 'motd', dest: '/etc/motd' }), ctx());
    expect(p).to.include({ content: 'héllo\n', content_encoding: 'utf8', src: 'motd' });
    expect(asked).to.include('files/motd');
  });

  it('copy reads a binary file as base64', async () => {
    const p = await copy.prepare!(copy.params.parse({ src: 'logo.png', dest: '/srv/' }), ctx());
    expect(p).to.include({ content: Buffer.from([0x89, 0x50, 0xff, 0x00]).toString('base64'), content_encoding: 'base64' });
  });

  it('copy with inline content reads nothing', async () => {
    const before = asked.length;
    const p = await copy.prepare!(copy.params.parse({ content: 'x', dest: '/x' }), ctx());
    expect(p.content).to.equal('x');
    expect(asked.length).to.equal(before);
  });

  it('template renders templates/SRC and passes the text to the plan', async () => {
    const p = await template.prepare!(template.params.parse({ src: 'site.conf.ejs', dest: '/etc/site.conf' }), ctx());
    expect((p as { content?: string }).content).to.equal(`rendered ${join(dir, 'site.conf.ejs')} for port 8080\n`);
    expect(asked).to.include('templates/site.conf.ejs');
  });

  it('template gives the template ansible_managed (unless a variable sets it) and template_path, template_fullpath, template_destpath', async () => {
    const extras: Array<Record<string, unknown> | undefined> = [];
    const withVars = (vars: Record<string, unknown>): PrepareContext => ({ ...ctx(), vars, renderTemplate: async (_file, extra) => (extras.push(extra), '') });
    await template.prepare!(template.params.parse({ src: 'app.conf.j2', dest: '/etc/app.conf' }), withVars({}));
    await template.prepare!(template.params.parse({ src: 'app.conf.j2', dest: '/etc/app.conf' }), withVars({ ansible_managed: 'mine' }));
    const file = join(dir, 'app.conf.j2');
    expect(extras[0]).to.deep.equal({ ansible_managed: 'Ansible managed', template_path: file, template_fullpath: file, template_destpath: '/etc/app.conf' });
    expect(extras[1]).to.deep.equal({ template_path: file, template_fullpath: file, template_destpath: '/etc/app.conf' });
  });
});
