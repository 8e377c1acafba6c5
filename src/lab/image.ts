/**
 * Lab host images, built locally (no registry is ever contacted):
 *   base   - Debian bookworm + systemd + sshd, from debootstrap (see rootfs.ts), `docker import`ed;
 *   docker - base + docker.io with the vfs storage driver, for hosts that run their own engine.
 * Tags carry a hash of their recipe (`tsplay-lab:base-<hash>`), so a built image is reused until
 * the recipe changes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { docker, pipe, tryRun } from './exec.js';
import { debianMirrors } from './mirror.js';
import { aptProgress, follow, formatBytes, phase, skipped, type OnProgress } from './progress.js';
import { configureRootfs, labCacheDir, prepareRootfs, rootfsRecipe, TAR_KEEP } from './rootfs.js';

export type ImageFlavor = 'base' | 'docker';

export const IMAGE_REPO = 'tsplay-lab';

/** Bump when the build steps change in a way the recipes below do not show. */
const BUILD_VERSION = 1;

/** The boot command of every lab image: systemd as PID 1. */
const INIT_CMD = 'CMD ["/sbin/init"]';

/**
 * Run in a container of the base image to make the docker flavor. policy-rc.d keeps dpkg from
 * starting daemons in the build container; systemd starts them in the lab host.
 */
export const DOCKER_FLAVOR_SCRIPT = `set -eu
export DEBIAN_FRONTEND=noninteractive
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
apt-get update -q
apt-get install -y -q --no-install-recommends docker.io
mkdir -p /etc/docker
printf '{ "storage-driver": "vfs" }\\n' > /etc/docker/daemon.json
rm -f /usr/sbin/policy-rc.d
apt-get clean
rm -rf /var/lib/apt/lists/*
`;

export interface LabImage {
  flavor: ImageFlavor;
  /** e.g. `tsplay-lab:base-3f2a9c01d4e5` */
  tag: string;
  /** Docker image id (sha256:...). */
  id: string;
  /** False when an existing image was reused. */
  built: boolean;
}

export function recipeHash(recipe: unknown): string {
  return createHash('sha256').update(JSON.stringify({ v: BUILD_VERSION, recipe })).digest('hex').slice(0, 12);
}

/** Image id of `ref`, or undefined when the engine does not have it. */
export async function imageId(ref: string): Promise<string | undefined> {
  const r = await tryRun('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

function needRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new UserError(`building the lab ${what} image needs root (debootstrap); run once as root`);
}

/** Tags of both flavors for this machine's mirror (cheap: no Docker call). */
export function imageTags(): Record<ImageFlavor, string> {
  const base = rootfsRecipe(debianMirrors());
  const baseTag = `${IMAGE_REPO}:base-${recipeHash(base)}`;
  return { base: baseTag, docker: `${IMAGE_REPO}:docker-${recipeHash({ from: baseTag, script: DOCKER_FLAVOR_SCRIPT })}` };
}

async function buildBase(tag: string, onProgress?: OnProgress): Promise<void> {
  needRoot('base');
  const recipe = rootfsRecipe(debianMirrors());
  const { aptSources: _a, keygenUnit: _k, masked: _m, ...bootstrapInputs } = recipe;
  const cacheRoot = labCacheDir();
  mkdirSync(cacheRoot, { recursive: true });
  const work = mkdtempSync(join(cacheRoot, 'build-'));
  try {
    const root = join(work, 'rootfs');
    await prepareRootfs(root, recipe, recipeHash(bootstrapInputs), onProgress);
    await phase(onProgress, 'configure rootfs', async () => configureRootfs(root, recipe));
    await phase(onProgress, 'import base image', (update) =>
      pipe(
        { cmd: 'tar', args: ['-C', root, ...TAR_KEEP, '-c', '.'] },
        { cmd: 'docker', args: ['import', '--change', INIT_CMD, '--change', `LABEL tsplay.recipe=${tag}`, '-', tag] },
        { onBytes: (n) => update(`${formatBytes(n)} sent to docker import`) },
      ),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function buildDockerFlavor(tag: string, baseTag: string, onProgress?: OnProgress): Promise<void> {
  // Unique per process: a concurrent build of the same image must not remove this one's container.
  const builder = `tsplay-lab-build-${tag.split(':')[1]}-${process.pid}`;
  await tryRun('docker', ['rm', '-f', builder]);
  try {
    await phase(onProgress, 'install docker.io', (update) =>
      docker(['run', '--name', builder, '--label', 'tsplay.build=1', baseTag, 'sh', '-c', DOCKER_FLAVOR_SCRIPT], {
        timeoutMs: 20 * 60_000,
        onLine: follow(aptProgress(), update),
      }),
    );
    await phase(onProgress, 'commit docker image', () =>
      docker(['commit', '--change', INIT_CMD, '--change', `LABEL tsplay.recipe=${tag}`, builder, tag]),
    );
  } finally {
    await tryRun('docker', ['rm', '-f', builder]);
  }
}

/**
 * Makes sure the lab image of `flavor` exists, building it (and the base it comes from) when
 * missing. The second call for the same recipe only inspects the image.
 */
export async function ensureImage(opts: { flavor: ImageFlavor; onProgress?: OnProgress }): Promise<LabImage> {
  const { flavor, onProgress } = opts;
  const tags = imageTags();
  const tag = tags[flavor];
  const existing = await imageId(tag);
  if (existing) {
    skipped(onProgress, `${flavor} image`, `reusing ${tag}`);
    return { flavor, tag, id: existing, built: false };
  }
  if (flavor === 'base') {
    await buildBase(tag, onProgress);
  } else {
    await ensureImage({ flavor: 'base', onProgress });
    await buildDockerFlavor(tag, tags.base, onProgress);
  }
  const id = await imageId(tag);
  if (!id) throw new Error(`bug: built ${tag} but the engine does not list it`);
  return { flavor, tag, id, built: true };
}
