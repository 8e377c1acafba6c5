/**
 * `tsplay lab prune`: removes the lab images (`tsplay-lab:*`) that the current recipes no longer
 * build, left behind each time a recipe changed (each is hundreds of MB). An image that a
 * container uses (running or stopped) is never removed, nor one of the current recipes. Removing
 * is `docker rmi TAG`, never forced: the engine refuses anything still referenced.
 */
import { busyboxTag } from './busybox.js';
import { docker, tryRun } from './exec.js';
import { IMAGE_REPO, imageTags } from './image.js';

export interface PruneResult {
  removed: string[];
  kept: Array<{ tag: string; why: string }>;
}

export interface PruneOptions {
  /** The repository to prune (default tsplay-lab). */
  repo?: string;
  /** Tags that stay (default: those the current recipes build). */
  current?: string[];
  /** Say what would be removed, remove nothing. */
  dryRun?: boolean;
}

export async function labPrune(opts: PruneOptions = {}): Promise<PruneResult> {
  const repo = opts.repo ?? IMAGE_REPO;
  const current = new Set(opts.current ?? [...Object.values(imageTags()), busyboxTag()]);
  const images = (await docker(['image', 'ls', repo, '--no-trunc', '--format', '{{.Repository}}:{{.Tag}}\t{{.ID}}']))
    .split('\n')
    .filter((l) => l.trim() && !l.includes('<none>'))
    .map((l) => {
      const [tag, id] = l.split('\t');
      return { tag: tag!, id: id! };
    });
  const inUse = await imagesInUse();
  const out: PruneResult = { removed: [], kept: [] };
  for (const img of images.sort((a, b) => a.tag.localeCompare(b.tag))) {
    if (current.has(img.tag)) out.kept.push({ tag: img.tag, why: 'current recipe' });
    else if (inUse.has(img.id)) out.kept.push({ tag: img.tag, why: `used by container ${inUse.get(img.id)}` });
    else if (opts.dryRun) out.removed.push(img.tag);
    else {
      const r = await tryRun('docker', ['rmi', img.tag]);
      if (r.code === 0) out.removed.push(img.tag);
      else out.kept.push({ tag: img.tag, why: `docker refused: ${r.stderr.trim().split('\n')[0]}` });
    }
  }
  return out;
}

/** Image id -> the name of a container (running or not) made from it. */
async function imagesInUse(): Promise<Map<string, string>> {
  const ids = (await docker(['ps', '-a', '-q', '--no-trunc'])).split('\n').filter(Boolean);
  const used = new Map<string, string>();
  if (!ids.length) return used;
  // A container removed meanwhile makes inspect fail for it only: the others are still printed.
  for (const line of (await tryRun('docker', ['inspect', '--format', '{{.Image}}\t{{.Name}}', ...ids])).stdout.split('\n')) {
    const [image, name] = line.split('\t');
    if (image && !used.has(image)) used.set(image, (name ?? '').replace(/^\//, ''));
  }
  return used;
}
