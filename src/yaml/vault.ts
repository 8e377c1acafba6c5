/**
 * Ansible vault: files encrypted whole (`$ANSIBLE_VAULT;1.1;AES256`, `1.2;AES256;label`) and
 * inline `!vault |` values. The body is hex of "salt-hex\nhmac-hex\nciphertext-hex"; PBKDF2-
 * HMAC-SHA256 (10000 rounds) of the password gives 80 bytes: the AES-256 key, the HMAC-SHA256
 * key and the CTR IV. The HMAC over the ciphertext says whether the password is right.
 *
 * The passwords are the process's (set once by the CLI from --vault-password-file or
 * --ask-vault-pass, or by a library user with `setVaultPasswords`): YAML is parsed in many
 * places and a vault value can be in any of them. Each password is tried in turn (Ansible's
 * vault ids; the 1.2 label is not needed to pick one).
 */
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { UserError, type Diagnostics } from '../core/errors.js';

const HEADER = /^\s*\$ANSIBLE_VAULT;(\d+\.\d+);([^;\r\n]+)(?:;([^\r\n]*))?\r?\n/;

export function isVaultText(text: string): boolean {
  return /^\s*\$ANSIBLE_VAULT;/.test(text);
}

/** True when a file (e.g. a copy src) starts with the vault header. */
export function isVaultFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(64);
    return isVaultText(head.subarray(0, readSync(fd, head, 0, 64, 0)).toString('latin1'));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Why a vault text could not be decrypted. The message names what was being decrypted as
 * `{what}` ("this file", "this !vault value"): `describe` fills it in.
 */
export class VaultError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
  describe(what: string): string {
    return this.message.replace('{what}', what);
  }
}

let passwords: string[] = [];
let passwordHint = '';

/** The vault passwords to try (empty: vault content is an error naming the flags to pass). */
export function setVaultPasswords(list: readonly string[]): void {
  passwords = [...list];
}

export function vaultPasswordsSet(): boolean {
  return passwords.length > 0;
}

/** What to tell a user who has vault content but gave no password. */
export const NO_PASSWORD_HINT = 'pass --vault-password-file FILE or --ask-vault-pass (or set TSPLAY_VAULT_PASSWORD_FILE)';

/** Sets what a wrong-password error says the password came from (e.g. "from vault.pass"). */
export function setVaultPasswordSource(hint: string): void {
  passwordHint = hint;
}

/**
 * Reads a vault password file as Ansible does: an executable file is run and its stdout is the
 * password; any other file is read. Surrounding whitespace is dropped.
 */
export function readVaultPasswordFile(file: string): string {
  let executable = true;
  try {
    accessSync(file, constants.X_OK);
  } catch {
    executable = false;
  }
  let text: string;
  try {
    text = executable
      ? execFileSync(file, [], { encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'], timeout: 60_000 })
      : readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number };
    if (err.code === 'ENOENT') throw new UserError(`vault password file not found: ${file}`);
    if (executable && err.status !== undefined) throw new UserError(`vault password script ${file} failed (exit code ${err.status})`);
    throw new UserError(`cannot read the vault password file ${file}: ${err.message.split('\n')[0]}`);
  }
  const pw = text.trim();
  if (!pw) throw new UserError(`the vault password file ${file} is empty${executable ? ' (the script printed nothing)' : ''}`);
  return pw;
}

function unhex(s: string, what: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(s)) throw new VaultError(`{what} is not valid vault data (${what} is not hex)`);
  return Buffer.from(s, 'hex');
}

/** Decrypts one vault envelope with one password; undefined when the HMAC does not match. */
function decryptWith(salt: Buffer, hmac: Buffer, ciphertext: Buffer, password: string): Buffer | undefined {
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10000, 80, 'sha256');
  const mac = createHmac('sha256', key.subarray(32, 64)).update(ciphertext).digest();
  if (mac.length !== hmac.length || !timingSafeEqual(mac, hmac)) return undefined;
  const d = createDecipheriv('aes-256-ctr', key.subarray(0, 32), key.subarray(64, 80));
  const padded = Buffer.concat([d.update(ciphertext), d.final()]);
  const pad = padded.length ? padded[padded.length - 1]! : 0;
  if (pad < 1 || pad > 16 || pad > padded.length || !padded.subarray(padded.length - pad).every((b) => b === pad)) {
    throw new VaultError('{what} is not valid vault data (bad padding after decryption)');
  }
  return padded.subarray(0, padded.length - pad);
}

/**
 * Decrypts a vault text (a whole file or the value of a `!vault` tag) with the first password
 * whose HMAC matches. Throws a VaultError when none does or the text is not vault data.
 */
export function decryptVault(text: string, passwordList: readonly string[] = passwords): string {
  return decryptVaultBytes(text, passwordList).toString('utf8');
}

/** decryptVault, giving the plaintext's bytes (a file encrypted whole may be binary). */
export function decryptVaultBytes(text: string, passwordList: readonly string[] = passwords): Buffer {
  const m = HEADER.exec(text);
  if (!m) throw new VaultError('{what} is not valid vault data (no $ANSIBLE_VAULT;1.1;AES256 header line)');
  const [, version, cipher] = m;
  if (version !== '1.1' && version !== '1.2') throw new VaultError(`{what} uses vault format ${version}, which tsplay cannot read (only 1.1 and 1.2)`);
  if (cipher!.trim() !== 'AES256') throw new VaultError(`{what} uses the cipher ${cipher}, which tsplay cannot read (only AES256)`);
  if (!passwordList.length) throw new VaultError('{what} is encrypted with Ansible vault and no vault password was given', NO_PASSWORD_HINT);
  const inner = unhex(text.slice(m[0].length).replace(/\s+/g, ''), 'the body').toString('latin1');
  const parts = inner.split('\n');
  if (parts.length !== 3) throw new VaultError('{what} is not valid vault data (the body is not salt, HMAC and ciphertext)');
  const [salt, hmac, ciphertext] = [unhex(parts[0]!, 'the salt'), unhex(parts[1]!, 'the HMAC'), unhex(parts[2]!, 'the ciphertext')];
  for (const pw of passwordList) {
    const plain = decryptWith(salt, hmac, ciphertext, pw);
    if (plain !== undefined) return plain;
  }
  throw new VaultError(`the vault password${passwordHint ? ` ${passwordHint}` : ''} does not decrypt {what} (HMAC mismatch)`);
}

/** The plaintext of a file encrypted whole, or undefined after adding the error (at file:1:1) to `diags`. */
export function openVaultFile(text: string, file: string, diags: Diagnostics): string | undefined {
  try {
    return decryptVault(text);
  } catch (e) {
    if (!(e instanceof VaultError)) throw e;
    diags.error(e.describe('this file'), { file, line: 1, col: 1 }, e.hint);
    return undefined;
  }
}
