/**
 * copy and template sources encrypted whole with Ansible vault (issue 13): decrypted on the
 * controller with the run's vault passwords, their text a secret of the run (masked in
 * output); without a password, an error at the file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { encrypt } from '../helpers/vault.js';
import { prepareParams } from '../../src/engine/params.js';
import copy from '../../src/modules/files/copy.js';
import template from '../../src/modules/files/template.js';
import { readLocalFile } from '../../src/playbook/files.js';
import type { UserError } from '../../src/core/errors.js';
import { Scope } from '../../src/vars/scope.js';
import { setVaultPasswords } from '../../src/yaml/vault.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'ansible');
const PASSWORD = readFileSync(join(fixtures, 'vault', 'vault.pass'), 'utf8').trim();
/** Made by ansible-vault (ansible-core 2.14) with vault.pass. */
const SERVER_KEY = join(fixtures, 'vault-copy-src', 'files', 'server.key');

describe('engine: vault-encrypted copy and template sources', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-vault-src-'));
    mkdirSync(join(dir, 'files'));
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'files', 'server.key'), readFileSync(SERVER_KEY));
    writeFileSync(join(dir, 'templates', 'creds.conf.j2'), encrypt('user={{ user }}\npassword=Tpl-Plaintext-Pw\n', PASSWORD));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => setVaultPasswords([]));

  const prepare = (module: typeof copy | typeof template, params: Record<string, unknown>, secrets: Set<string>) =>
    prepareParams({ module, role: undefined } as never, 'web1', new Scope([{ label: 'vars', kind: 'data', vars: { user: 'app' } }]), module.params.parse(params), { playbookDir: dir, secrets } as never) as Promise<{ content?: string }>;

  it('copy writes the plaintext of an encrypted src, and the plaintext becomes a secret', async () => {
    setVaultPasswords([PASSWORD]);
    const secrets = new Set<string>();
    const p = await prepare(copy, { src: 'server.key', dest: '/etc/ssl/private/server.key' }, secrets);
    expect(p.content).to.equal('not a real key, encrypted as a fixture\n');
    expect([...secrets]).to.include('not a real key, encrypted as a fixture\n');
  });

  it('template renders the plaintext of an encrypted template, and what it renders becomes a secret', async () => {
    setVaultPasswords([PASSWORD]);
    const secrets = new Set<string>();
    const p = await prepare(template, { src: 'creds.conf.j2', dest: '/etc/creds.conf' }, secrets);
    expect(p.content).to.equal('user=app\npassword=Tpl-Plaintext-Pw\n');
    expect([...secrets]).to.include('user=app\npassword=Tpl-Plaintext-Pw\n');
  });

  it('without a vault password: an error at the file naming the flag to pass', () => {
    const file = join(dir, 'files', 'server.key');
    try {
      readLocalFile(file);
      expect.fail('read');
    } catch (e) {
      expect((e as Error).message).to.include(`${file}:1:1: error: "${file}" is encrypted with Ansible vault and no vault password was given`);
      expect((e as UserError).diagnostics[0]!.hint).to.include('--vault-password-file');
    }
  });
});
