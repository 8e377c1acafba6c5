/**
 * Just enough OpenPGP for APT keys, on the controller: armor <-> binary (RFC 4880 section 6) and
 * the v4 fingerprint of the primary key (section 12.2), so apt_key can name a key, check its
 * `id` and write the form the keyring's extension asks for (.asc armored, .gpg binary).
 */
import { createHash } from 'node:crypto';

const BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const END = '-----END PGP PUBLIC KEY BLOCK-----';

export function isArmoredKey(data: string | Buffer): boolean {
  return (typeof data === 'string' ? data : data.subarray(0, 128).toString('latin1')).includes(BEGIN);
}

/** The bytes of an armored key (the first block); throws on a malformed block. */
export function dearmor(text: string): Buffer {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END, start);
  if (start < 0 || end < 0) throw new Error('not an armored OpenPGP public key block');
  const lines = text.slice(start + BEGIN.length, end).split(/\r?\n/).map((l) => l.trim());
  // Armor headers ("Version: ...") end at the first empty line, when there are any.
  const blank = lines.indexOf('', 1);
  const body = lines.slice(lines.slice(1).some((l) => /^[A-Za-z-]+: /.test(l)) ? blank + 1 : 0).filter((l) => l && !l.startsWith('='));
  const bytes = Buffer.from(body.join(''), 'base64');
  if (!bytes.length) throw new Error('the armored key block is empty');
  return bytes;
}

function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** The armored form of a binary key. */
export function armor(bytes: Buffer): string {
  const b64 = bytes.toString('base64').match(/.{1,64}/g) ?? [];
  const crc = Buffer.from([(crc24(bytes) >> 16) & 0xff, (crc24(bytes) >> 8) & 0xff, crc24(bytes) & 0xff]).toString('base64');
  return `${BEGIN}\n\n${b64.join('\n')}\n=${crc}\n${END}\n`;
}

/** The first packet's tag and body. */
function firstPacket(b: Buffer): { tag: number; body: Buffer } {
  const h = b[0] ?? 0;
  if (!(h & 0x80)) throw new Error('not an OpenPGP packet');
  if (h & 0x40) {
    const tag = h & 0x3f;
    const o1 = b[1] ?? 0;
    if (o1 < 192) return { tag, body: b.subarray(2, 2 + o1) };
    if (o1 < 224) {
      const len = ((o1 - 192) << 8) + (b[2] ?? 0) + 192;
      return { tag, body: b.subarray(3, 3 + len) };
    }
    if (o1 === 255) return { tag, body: b.subarray(6, 6 + b.readUInt32BE(2)) };
    throw new Error('partial-length packets are not a public key');
  }
  const tag = (h >> 2) & 0x0f;
  const lt = h & 3;
  const n = lt === 0 ? 1 : lt === 1 ? 2 : lt === 2 ? 4 : 0;
  if (!n) throw new Error('indeterminate-length packets are not a public key');
  const len = n === 1 ? b[1]! : n === 2 ? b.readUInt16BE(1) : b.readUInt32BE(1);
  return { tag, body: b.subarray(1 + n, 1 + n + len) };
}

/** The primary key's v4 fingerprint (40 upper-case hex digits). */
export function fingerprint(bytes: Buffer): string {
  const { tag, body } = firstPacket(bytes);
  if (tag !== 6) throw new Error(`not an OpenPGP public key (first packet has tag ${tag})`);
  if (body[0] !== 4) throw new Error(`OpenPGP key version ${body[0]} is not supported (v4 only)`);
  const head = Buffer.from([0x99, (body.length >> 8) & 0xff, body.length & 0xff]);
  return createHash('sha1').update(head).update(body).digest('hex').toUpperCase();
}

/** Whether `id` (short 8, long 16 or full 40 hex digits, optional 0x) names the key with fingerprint `fpr`. */
export function idMatches(id: string, fpr: string): boolean {
  const want = id.replace(/^0x/i, '').replace(/\s+/g, '').toUpperCase();
  return want.length >= 8 && fpr.endsWith(want);
}
