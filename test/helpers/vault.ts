/** Ansible vault encryption for fixtures made in tests. */
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** Ansible vault 1.1 of `plain` (the format ansible-vault writes). */
export function encrypt(plain: string, password: string): string {
  const salt = randomBytes(32);
  const key = pbkdf2Sync(Buffer.from(password), salt, 10000, 80, 'sha256');
  const data = Buffer.from(plain, 'utf8');
  const pad = 16 - (data.length % 16);
  const c = createCipheriv('aes-256-ctr', key.subarray(0, 32), key.subarray(64, 80));
  const ciphertext = Buffer.concat([c.update(Buffer.concat([data, Buffer.alloc(pad, pad)])), c.final()]);
  const hmac = createHmac('sha256', key.subarray(32, 64)).update(ciphertext).digest();
  const body = Buffer.from(`${salt.toString('hex')}\n${hmac.toString('hex')}\n${ciphertext.toString('hex')}`).toString('hex');
  return `$ANSIBLE_VAULT;1.1;AES256\n${body.match(/.{1,80}/g)!.join('\n')}\n`;
}
