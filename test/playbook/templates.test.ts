/** EJS templates rendered on the controller (src/playbook/templates.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { renderTemplate } from '../../src/playbook/templates.js';

describe('playbook/templates', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-templates-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('writes values verbatim with <%= (config files are not HTML), and <%- is the same', async () => {
    const file = write('app.conf.ejs', 'name=<%= name %>\nraw=<%- name %>\nq="<%= vars.quote %>"\nnone=<%= nothing %>|\n');
    const out = await renderTemplate(file, { name: `Tom & Jerry's <app>`, quote: 'a "b"', nothing: null });
    expect(out).to.equal(`name=Tom & Jerry's <app>\nraw=Tom & Jerry's <app>\nq="a "b""\nnone=|\n`);
  });
});
