/**
 * A tiny container image for test stacks inside docker-flavor lab hosts (e.g.
 * `busybox httpd -f -p 8080`), made from Debian's busybox-static package on the controller:
 * no registry is ever contacted.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { docker, pipe, run, tryRun } from './exec.js';
import { IMAGE_REPO, imageId, recipeHash } from './image.js';
import { phase, skipped, type OnProgress } from './progress.js';

/** The name test stacks use for it, on the controller and inside lab hosts. */
export const BUSYBOX_IMAGE = 'tsplay/busybox:latest';

const BUSYBOX_RECIPE = {
  pkg: 'busybox-static',
  dirs: ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var/www'],
  passwd: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  group: 'root:x:0:\nnogroup:x:65534:\n',
  cmd: 'CMD ["/bin/sh"]',
};

async function downloadBusybox(dir: string): Promise<string> {
  const attempt = () => tryRun('apt-get', ['download', BUSYBOX_RECIPE.pkg], { cwd: dir });
  let r = await attempt();
  if (r.code !== 0 && process.getuid?.() === 0) {
    await run('apt-get', ['update']);
    r = await attempt();
  }
  const deb = readdirSync(dir).find((f) => f.endsWith('.deb'));
  if (r.code !== 0 || !deb) {
    throw new UserError(`cannot download ${BUSYBOX_RECIPE.pkg} with apt-get (run \`apt-get update\` as root?)\n${r.stderr.trim()}`);
  }
  return join(dir, deb);
}

/** The tag of the busybox image this recipe builds. */
export const busyboxTag = (): string => `${IMAGE_REPO}:busybox-${recipeHash(BUSYBOX_RECIPE)}`;

/** Ensures `tsplay/busybox:latest` exists on the controller's engine; returns its image id. */
export async function ensureBusyboxImage(onProgress?: OnProgress): Promise<string> {
  const tag = busyboxTag();
  let id = await imageId(tag);
  if (id) {
    skipped(onProgress, 'busybox image', `reusing ${tag}`);
  } else {
    const work = mkdtempSync(join(tmpdir(), 'tsplay-busybox-'));
    chmodSync(work, 0o755); // apt-get download drops privileges to _apt when it can
    try {
      await phase(onProgress, 'build busybox image', async () => {
        const deb = await downloadBusybox(work);
        const unpacked = join(work, 'deb');
        await run('dpkg-deb', ['-x', deb, unpacked]);
        const root = join(work, 'rootfs');
        for (const d of BUSYBOX_RECIPE.dirs) mkdirSync(join(root, d), { recursive: true });
        copyFileSync(join(unpacked, 'bin/busybox'), join(root, 'bin/busybox'));
        chmodSync(join(root, 'bin/busybox'), 0o755);
        const applets = (await run(join(root, 'bin/busybox'), ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
        for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
        writeFileSync(join(root, 'etc/passwd'), BUSYBOX_RECIPE.passwd);
        writeFileSync(join(root, 'etc/group'), BUSYBOX_RECIPE.group);
        await pipe(
          { cmd: 'tar', args: ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-c', '.'] },
          { cmd: 'docker', args: ['import', '--change', BUSYBOX_RECIPE.cmd, '-', tag] },
        );
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    id = await imageId(tag);
    if (!id) throw new Error(`bug: built ${tag} but the engine does not list it`);
  }
  if ((await imageId(BUSYBOX_IMAGE)) !== id) await docker(['tag', tag, BUSYBOX_IMAGE]);
  return id;
}
