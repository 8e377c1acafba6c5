/**
 * The bulk probe (facts/bulk.ts) against each fact's own command, under dash on this machine,
 * on real files with tricky names: every fact read in one batch must give what its command
 * alone gives (same parsed value, or both fail), and the same text for its parser.
 * Run as root, the unreadable cases also run as nobody.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, lutimesSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ExecResult, Fact } from '../../src/core/module.js';
import { quote } from '../../src/core/quote.js';
import { batchFacts } from '../../src/engine/facts-batch.js';
import * as F from '../../src/facts/index.js';
import { fileTimes } from '../../src/facts/file-times.js';
import { pathInfo } from '../../src/facts/path-info.js';

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
const NOBODY = 65534;

function run(script: string, cwd: string, asNobody = false): ExecResult {
  const ids = asNobody ? { uid: NOBODY, gid: NOBODY } : {};
  const r = spawnSync('dash', ['-c', script], { encoding: 'utf8', cwd, env: ENV, maxBuffer: 1 << 26, ...ids });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

function outcome(f: Fact, out: ExecResult): unknown {
  try {
    return { value: f.parse(out) };
  } catch (err) {
    return { failed: (err as Error).message.split(':')[0] };
  }
}

/** Every fact alone and all in one batch; returns the batch script for shape checks. */
function compare(facts: Fact[], cwd: string, asNobody = false): string {
  const batch = batchFacts(facts);
  const parts = batch.split(run(batch.script, cwd, asNobody));
  facts.forEach((f, i) => {
    const alone = run(f.command, cwd, asNobody);
    const label = `${f.key} ${JSON.stringify(f.command.slice(0, 60))}`;
    expect(outcome(f, parts[i]!), label).to.deep.equal(outcome(f, alone));
    if (alone.code === 0 && f.bulk) expect(parts[i]!.stdout, label).to.equal(alone.stdout);
  });
  return batch.script;
}

const pathFacts = (p: string): Fact[] => [
  F.stat(p),
  F.fileContent(p),
  fileTimes(p, []),
  pathInfo(p),
  pathInfo(p, { follow: true }),
];

describe('bulk probe on this machine (dash): the same facts as each command alone', function () {
  this.timeout(60000);
  let dir: string;
  const names = [
    'plain.txt',
    'with space',
    `quote's "double"`,
    'new\nline',
    'trailing newline\n',
    'pipe|in|name',
    'back\\slash',
    'glob*?[a]',
    '$(touch pwned) `x`',
    'tab\there',
    `long ${'n'.repeat(140)}`,
    'empty',
    'binary',
    'just-below',
    'at-limit',
    'big',
    'dir',
    'fifo',
    'link-file',
    'link-dir',
    'link-broken',
    'link-loop',
    'link-newline',
    'missing',
    'missing-dir/x',
    'locked-dir/inside',
    'unreadable',
    'dir/',
  ];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tsplay bulk it's-"));
    chmodSync(dir, 0o755);
    const text = (n: string) => `content of ${n}\nline two é\n`;
    for (const n of ['plain.txt', 'with space', `quote's "double"`, 'new\nline', 'trailing newline\n', 'pipe|in|name', 'back\\slash', 'glob*?[a]', '$(touch pwned) `x`', 'tab\there', `long ${'n'.repeat(140)}`]) {
      writeFileSync(join(dir, n), text(n));
    }
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'binary'), Buffer.from([0, 0xff, 0xfe, 0x80, 10, 0]));
    writeFileSync(join(dir, 'just-below'), Buffer.alloc(F.CONTENT_LIMIT - 1, 'b'));
    writeFileSync(join(dir, 'at-limit'), Buffer.alloc(F.CONTENT_LIMIT, 'c'));
    writeFileSync(join(dir, 'big'), Buffer.alloc(F.CONTENT_LIMIT + 77, 'd'));
    mkdirSync(join(dir, 'dir'));
    spawnSync('mkfifo', [join(dir, 'fifo')]);
    symlinkSync('plain.txt', join(dir, 'link-file'));
    symlinkSync('dir', join(dir, 'link-dir'));
    symlinkSync('nowhere', join(dir, 'link-broken'));
    symlinkSync('link-loop', join(dir, 'link-loop'));
    symlinkSync('with\nnewline', join(dir, 'link-newline'));
    mkdirSync(join(dir, 'locked-dir'));
    writeFileSync(join(dir, 'locked-dir/inside'), 'x');
    chmodSync(join(dir, 'locked-dir'), 0o700);
    writeFileSync(join(dir, 'unreadable'), 'secret');
    chmodSync(join(dir, 'unreadable'), 0o600);
    // atime after mtime: reading a file does not move its atime (relatime) between the runs.
    // lutimes: a link's own times too, since reading a link (readlink) moves its atime.
    const now = Date.now() / 1000;
    for (const n of names) {
      try {
        lutimesSync(join(dir, n), now + 1000, now - 1000);
      } catch {
        // absent or locked on purpose
      }
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('absolute paths: files, links, directory, fifo, missing, sizes around the content limit', () => {
    compare(names.flatMap((n) => pathFacts(join(dir, n))), '/');
  });

  it('as another user: unreadable files and directories that cannot be searched', function () {
    if (process.getuid?.() !== 0) this.skip();
    const facts = names.flatMap((n) => pathFacts(join(dir, n)));
    compare(facts, '/', true);
    const batch = batchFacts([F.fileContent(join(dir, 'unreadable')), F.stat(join(dir, 'locked-dir/inside')), pathInfo(join(dir, 'unreadable'))]);
    const [content, locked, info] = batch.split(run(batch.script, '/', true));
    expect(() => F.fileContent(join(dir, 'unreadable')).parse(content!)).to.throw(/could not read the content/);
    expect(F.stat(join(dir, 'locked-dir/inside')).parse(locked!)).to.deep.equal({ exists: false });
    expect(pathInfo(join(dir, 'unreadable')).parse(info!)).to.deep.include({ exists: true, readable: false, writeable: false });
  });

  it('relative paths, one starting with a dash, beside facts that are not bulk', () => {
    writeFileSync(join(dir, '-dash'), 'x\n');
    lutimesSync(join(dir, '-dash'), Date.now() / 1000 + 1000, Date.now() / 1000 - 1000);
    compare(
      [
        ...pathFacts('-dash'),
        ...pathFacts('plain.txt'),
        pathInfo('plain.txt', { checksum: 'sha1' }),
        fileTimes('plain.txt', ['2020-01-02 03:04:05']),
        F.treeMismatch(join(dir, 'dir'), { owner: 'root' }),
        F.group('root'),
      ],
      dir,
    );
  });

  it('the same path asked by several facts is read once', () => {
    const p = join(dir, 'plain.txt');
    const script = compare([F.stat(p), F.fileContent(p), F.stat(p), F.fileContent(p)], '/');
    expect(script.split(quote(p)).length - 1).to.equal(5); // lstat, follow, target, hash, fetch: once each
  });
});
