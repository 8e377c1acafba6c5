/**
 * Ansible vault: files encrypted whole (format 1.1, and 1.2 with a label) and inline `!vault`
 * values, all made by Debian's ansible-vault (ansible-core 2.14) into test/fixtures/ansible/vault
 * with the password in vault.pass. Decrypted values are secrets; a wrong or missing password is
 * a one-line error at the file and position of the vault data.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { loadRun } from '../../src/engine/run-file.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadYamlFile, parseYaml } from '../../src/yaml/source.js';
import { decryptVault, readVaultPasswordFile, setVaultPasswords, setVaultPasswordSource } from '../../src/yaml/vault.js';
import { parseExtraVars } from '../../src/vars/extra-vars.js';
import { FakeWorld } from '../helpers/fake-connection.js';

const root = join(import.meta.dirname, '..', '..');
const dir = join('test', 'fixtures', 'ansible', 'vault');
const fixture = (f: string) => join(dir, f);
const PASSWORD = readFileSync(fixture('vault.pass'), 'utf8').trim();

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return expect.fail('expected an error');
}

/** The plain value of a Secret (failing when it is not one). */
function plain(v: unknown): string {
  expect(v).to.be.instanceOf(Secret);
  return (v as Secret).value;
}

describe('yaml/vault', () => {
  beforeEach(() => setVaultPasswords([PASSWORD]));
  afterEach(() => {
    setVaultPasswords([]);
    setVaultPasswordSource('');
  });

  it('reads a password file, and runs an executable one for its output (as Ansible does)', () => {
    expect(readVaultPasswordFile(fixture('vault.pass'))).to.equal(PASSWORD);
    expect(readVaultPasswordFile(fixture('vault-pass.sh'))).to.equal(PASSWORD);
    expect(thrown(() => readVaultPasswordFile(fixture('nope.pass'))).message).to.equal(`error: vault password file not found: ${fixture('nope.pass')}`);
  });

  it('decrypts a 1.1 file: its strings become secrets, other scalars stay as they are', () => {
    const data = loadYamlFile(fixture('secrets-1.1.yml')).data as Record<string, any>;
    expect(plain(data.db_user)).to.equal('app');
    expect(plain(data.db_password)).to.equal('S3cret-Plaintext-1.1');
    expect(plain(data.nested.token)).to.equal('nested-token-plaintext');
    expect(data.port).to.equal(5432);
    expect(JSON.stringify(data)).not.to.include('Plaintext');
  });

  it('decrypts a 1.2 file with a vault id label, trying each password in turn', () => {
    setVaultPasswords(['not-this-one', PASSWORD]);
    const data = loadYamlFile(fixture('secrets-1.2.yml')).data as Record<string, unknown>;
    expect(plain(data.api_key)).to.equal('Labelled-Plaintext-1.2');
  });

  it('decrypts inline !vault values of both formats into secrets', () => {
    const data = loadYamlFile(fixture('inline.yml')).data as Record<string, unknown>;
    expect(data.plain_user).to.equal('deploy');
    expect(plain(data.inline_password)).to.equal('Inline-Plaintext-1.1');
    expect(plain(data.inline_labelled)).to.equal('Inline-Plaintext-1.2');
  });

  it('a wrong password is a one-line error at the file, or at the !vault value, saying HMAC mismatch', () => {
    setVaultPasswords(['not-the-password']);
    setVaultPasswordSource('from wrong.pass');
    const file = fixture('secrets-1.1.yml');
    const e = thrown(() => loadYamlFile(file));
    expect(e).to.be.instanceOf(UserError);
    expect(e.message).to.equal(`${file}:1:1: error: the vault password from wrong.pass does not decrypt this file (HMAC mismatch)`);
    const inline = fixture('inline.yml');
    const e2 = thrown(() => loadYamlFile(inline));
    expect(e2.message.split('\n')).to.deep.equal([
      `${inline}:3:18: error: the vault password from wrong.pass does not decrypt this !vault value (HMAC mismatch)`,
      `${inline}:10:18: error: the vault password from wrong.pass does not decrypt this !vault value (HMAC mismatch)`,
    ]);
  });

  it('without a password, vault content is an error naming the flag to pass', () => {
    setVaultPasswords([]);
    const e = thrown(() => loadYamlFile(fixture('secrets-1.2.yml'))) as UserError;
    expect(e.message).to.equal(`${fixture('secrets-1.2.yml')}:1:1: error: this file is encrypted with Ansible vault and no vault password was given`);
    expect(e.diagnostics[0]!.hint).to.include('--vault-password-file FILE or --ask-vault-pass');
    const e2 = thrown(() => loadYamlFile(fixture('inline.yml'))) as UserError;
    expect(e2.message).to.include('inline.yml:3:18: error: this !vault value is encrypted with Ansible vault and no vault password was given');
  });

  it('refuses what is not vault data, and formats and ciphers it cannot read', () => {
    expect(thrown(() => decryptVault('$ANSIBLE_VAULT;1.1;AES256\nzz\n')).message).to.equal('{what} is not valid vault data (the body is not hex)');
    expect(thrown(() => decryptVault('$ANSIBLE_VAULT;1.0;AES\n00\n')).message).to.include('uses vault format 1.0');
    expect(thrown(() => decryptVault('$ANSIBLE_VAULT;1.1;AES128\n00\n')).message).to.include('uses the cipher AES128');
    const e = thrown(() => parseYaml('x: !vault |\n  not vault\n', 'x.yml'));
    expect(e.message).to.equal('x.yml:1:4: error: this !vault value is not valid vault data (no $ANSIBLE_VAULT;1.1;AES256 header line)');
  });

  it('a vault-encrypted INI inventory is decrypted before its format is guessed (not read as host names)', () => {
    const inv = loadInventory([fixture('inventory-ini/hosts')]);
    expect([...inv.hosts.keys()]).to.deep.equal(['web1']);
    expect(inv.hostVars('web1').vars.ansible_host).to.equal('10.0.0.5');
    setVaultPasswords([]);
    const e = thrown(() => loadInventory([fixture('inventory-ini/hosts')]));
    expect(e.message).to.equal(`${fixture('inventory-ini/hosts')}:1:1: error: this file is encrypted with Ansible vault and no vault password was given`);
  });

  it('-e @file reads a vault-encrypted vars file too', () => {
    const vars = parseExtraVars([`@${fixture('secrets-1.1.yml')}`]);
    expect(plain(vars.db_password)).to.equal('S3cret-Plaintext-1.1');
  });

  it('a vault-encrypted group_vars file and an inline value reach tasks, and no event carries their plaintext', async () => {
    const project = fixture('.');
    const { playbook, inventory, registry } = await loadRun(join(project, 'playbook.yml'), { inventory: [join(project, 'inventory.yml')] });
    const bus = new EventBus();
    const events: EngineEvent[] = [];
    bus.on((e) => events.push(e));
    const summary = await runPlaybook(playbook, { inventory, registry, bus, connect: new FakeWorld().connect });
    expect(summary.failed).to.equal(false);
    const text = JSON.stringify(events);
    expect(text).to.include('connecting to db.internal:8080 with ******** and ********');
    expect(text).not.to.include('GroupVars-Plaintext-Pw');
    expect(text).not.to.include('Inline-Token-Plaintext');
  });
});

describe('tsplay CLI: vault flags', function () {
  const cli = join(root, 'dist', 'cli', 'main.js');
  const tsplay = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', TSPLAY_VAULT_PASSWORD_FILE: '', ANSIBLE_VAULT_PASSWORD_FILE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const pb = [join(dir, 'playbook.yml'), '-i', join(dir, 'inventory.yml')];
  before(function () {
    if (!existsSync(cli)) this.skip(); // built by `npm test` (tsc) before mocha runs
  });

  it('run --vault-password-file SCRIPT decrypts and masks; the env variables work too', () => {
    const r = tsplay(['run', ...pb, '--vault-password-file', join(dir, 'vault-pass.sh')]);
    expect(r.err).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.out).to.include('with ******** and ********');
    expect(r.out + r.err).not.to.match(/Plaintext/);
    expect(tsplay(['validate', ...pb], { TSPLAY_VAULT_PASSWORD_FILE: join(dir, 'vault.pass') }).code).to.equal(0);
    expect(tsplay(['validate', ...pb], { ANSIBLE_VAULT_PASSWORD_FILE: join(dir, 'vault.pass') }).code).to.equal(0);
    // Ansible's --vault-id label@file: the label is accepted, every password is tried.
    const id = tsplay(['validate', ...pb, '--vault-id', `dev@${join(dir, 'wrong.pass')}`, '--vault-id', `prod@${join(dir, 'vault.pass')}`]);
    expect(id.err).to.equal('');
    expect(id.code).to.equal(0);
  });

  it('a wrong password, no password, or --ask-vault-pass without a terminal: exit 1, a clear line, no stack', () => {
    const vaultFile = join(dir, 'group_vars', 'all', 'vault.yml');
    const wrong = tsplay(['validate', ...pb, '--vault-password-file', join(dir, 'wrong.pass')]);
    expect(wrong.code).to.equal(1);
    expect(wrong.err).to.include(`${vaultFile}:1:1: error: the vault password from ${join(dir, 'wrong.pass')} does not decrypt this file (HMAC mismatch)`);
    const none = tsplay(['validate', ...pb]);
    expect(none.code).to.equal(1);
    expect(none.err).to.include(`${vaultFile}:1:1: error: this file is encrypted with Ansible vault and no vault password was given`);
    expect(none.err).to.include('hint: pass --vault-password-file FILE or --ask-vault-pass');
    const ask = tsplay(['run', ...pb, '--ask-vault-pass']);
    expect(ask.code).to.equal(1);
    expect(ask.err).to.include('--ask-vault-pass needs a terminal; pass --vault-password-file FILE instead');
    const askId = tsplay(['validate', ...pb, '--vault-id', 'prod@prompt']);
    expect(askId.code).to.equal(1);
    expect(askId.err).to.include('--vault-id prompt needs a terminal');
    for (const r of [wrong, none, ask, askId]) expect(r.err).not.to.match(/\n\s+at .*\.(js|ts):\d+/);
  });

  it('--ask-vault-pass prompts on a terminal without echoing the password', async function () {
    if (spawnSync('script', ['--version']).status !== 0) this.skip(); // util-linux script(1) gives the CLI a terminal
    const cmd = [process.execPath, cli, 'validate', ...pb, '--ask-vault-pass'].join(' ');
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: root, env: { ...process.env, NO_COLOR: '1', TSPLAY_VAULT_PASSWORD_FILE: '', ANSIBLE_VAULT_PASSWORD_FILE: '' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      const before = out;
      out += b.toString();
      // Typed only once the prompt is up: earlier, the terminal itself would echo it.
      if (!before.includes('Vault password:') && out.includes('Vault password:')) child.stdin.write(`${PASSWORD}\r`);
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).to.equal(0);
    expect(out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')).to.include('ok: test/fixtures/ansible/vault/playbook.yml: 1 play(s)');
    expect(out).not.to.include(PASSWORD);
  });
});
