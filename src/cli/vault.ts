/**
 * The vault passwords of a command (--vault-password-file, --ask-vault-pass, or the
 * TSPLAY_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_PASSWORD_FILE variables), set before any YAML is read.
 */
import { readVaultPasswordFile, setVaultPasswords, setVaultPasswordSource } from '../yaml/vault.js';
import { promptHidden } from './prompt.js';

export interface VaultCliOptions {
  vaultPasswordFile?: string[];
  askVaultPass?: boolean;
  /** `--vault-id [label@]FILE` or `[label@]prompt`, as Ansible spells them. */
  vaultId?: string[];
}

export async function applyVaultOptions(o: VaultCliOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const ids = (o.vaultId ?? []).map((id) => id.replace(/^[^@/]*@/, ''));
  const ask = !!o.askVaultPass || ids.includes('prompt');
  const given = [...(o.vaultPasswordFile ?? []), ...ids.filter((f) => f !== 'prompt')];
  const files = given.length || ask ? given : [env.TSPLAY_VAULT_PASSWORD_FILE || env.ANSIBLE_VAULT_PASSWORD_FILE].filter((f): f is string => !!f);
  const passwords = files.map(readVaultPasswordFile);
  if (ask) passwords.push(await promptHidden('Vault password: ', `${o.askVaultPass ? '--ask-vault-pass' : '--vault-id prompt'} needs a terminal; pass --vault-password-file FILE instead`));
  setVaultPasswords(passwords);
  setVaultPasswordSource(ask && !files.length ? 'typed at the prompt' : files.length ? `from ${files.join(', ')}${ask ? ' or the prompt' : ''}` : '');
}
