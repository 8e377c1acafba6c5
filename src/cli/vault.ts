/**
 * The vault passwords of a command (--vault-password-file, --ask-vault-pass, or the
 * TSPLAY_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_PASSWORD_FILE variables), set before any YAML is read.
 */
import { readVaultPasswordFile, setVaultPasswords, setVaultPasswordSource } from '../index.js';
import { promptHidden } from './run.js';

export interface VaultCliOptions {
  vaultPasswordFile?: string[];
  askVaultPass?: boolean;
}

export async function applyVaultOptions(o: VaultCliOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const files = o.vaultPasswordFile?.length ? o.vaultPasswordFile : [env.TSPLAY_VAULT_PASSWORD_FILE || env.ANSIBLE_VAULT_PASSWORD_FILE].filter((f): f is string => !!f);
  const passwords = files.map(readVaultPasswordFile);
  if (o.askVaultPass) passwords.push(await promptHidden('Vault password: ', '--ask-vault-pass needs a terminal; pass --vault-password-file FILE instead'));
  setVaultPasswords(passwords);
  setVaultPasswordSource(o.askVaultPass && !files.length ? 'typed at the prompt' : files.length ? `from ${files.join(', ')}${o.askVaultPass ? ' or the prompt' : ''}` : '');
}
