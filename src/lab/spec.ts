/**
 * A lab spec: which disposable hosts `tsplay lab up` runs and in which inventory groups.
 *
 *   name: default            # lab name
 *   hosts:
 *     - name: web1
 *       groups: [web]
 *       docker: false        # true: the host runs its own Docker engine
 *     - name: app1
 *       docker: true
 *       images: [tsplay/busybox] # loaded into app1's engine on `lab up` (docker hosts only)
 *
 * Loaded from YAML with file:line:col errors, or made from a count (`--hosts N`).
 */
import { z } from 'zod';
import { Diagnostics, didYouMean, UserError } from '../core/errors.js';
import { loadYamlFile, parseYaml, type YamlFile, type YamlPath } from '../yaml/source.js';

/** The group every lab host belongs to. */
export const LAB_GROUP = 'lab';
const RESERVED_GROUPS = ['all', 'ungrouped'];

const hostName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a host name is lowercase letters, digits and inner dashes (a DNS label)');
const groupName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a group name starts with a letter or "_" and has letters, digits, "_" and "-"');
const labName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a lab name is up to 40 lowercase letters, digits, "_" and "-"');

/** `name` if it is a valid lab name, else a UserError saying why (`--name` given with a spec). */
export function checkLabName(name: string, what = '--name'): string {
  const r = labName.safeParse(name);
  if (!r.success) throw new UserError(`${what}: "${name}" is not a lab name: ${r.error.issues[0]!.message}`);
  return name;
}

/** Docker's reference grammar, simplified: [registry[:port]/]path[:tag][@sha256:digest]. */
const IMAGE_REF = /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** `name` → `name:latest`, as the engine names it; a reference with a tag or digest stays. */
export function normalizeImageRef(ref: string): string {
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  return ref.includes('@') || last.includes(':') ? ref : `${ref}:latest`;
}

const imageRef = z
  .string()
  .regex(IMAGE_REF, 'an image is a Docker reference such as tsplay/busybox or registry:5000/app:1.2')
  .transform(normalizeImageRef);

export const labHostSchema = z.strictObject({
  name: hostName.describe('Host name: the container hostname and its inventory name'),
  groups: z.array(groupName).default([]).describe(`Inventory groups besides "${LAB_GROUP}"`),
  docker: z.boolean().default(false).describe('Run a Docker engine inside this host'),
  images: z
    .array(imageRef)
    .default([])
    .describe(
      'Images copied into this host\'s Docker engine on `lab up` (docker hosts only; no registry is contacted): ' +
        'tsplay/busybox is built locally when missing, any other image must be on this machine\'s engine. ' +
        'An image the host already has with the same id is not copied again',
    ),
});

export const labSpecSchema = z.strictObject({
  name: labName.default('default').describe('Lab name: containers are tsplay-<name>.<host>'),
  hosts: z.array(labHostSchema).min(1, 'a lab needs at least one host').describe('The lab hosts'),
});

export type LabHostSpec = z.output<typeof labHostSchema>;
export type LabSpec = z.output<typeof labSpecSchema>;

function getIn(data: unknown, path: YamlPath): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Checks data against the schema and the rules across hosts; positions come from `file`. */
export function validateLabSpec(data: unknown, file?: YamlFile): LabSpec {
  const diags = new Diagnostics();
  const pos = (path: YamlPath) => file?.pos(path);
  const keyPos = (path: YamlPath) => file?.keyPos(path);
  const r = labSpecSchema.safeParse(data ?? {});
  if (!r.success) {
    for (const iss of r.error.issues) {
      const path = iss.path as Array<string | number>;
      const where = path.length ? `${path.join('.')}: ` : '';
      if (iss.code === 'unrecognized_keys') {
        const known = path.length ? Object.keys(labHostSchema.shape) : Object.keys(labSpecSchema.shape);
        for (const k of iss.keys) {
          const dym = didYouMean(k, known);
          diags.error(`lab spec: ${where}unknown key "${k}"${dym ? `; did you mean "${dym}"?` : ''}`, keyPos([...path, k]), dym ? undefined : `known keys: ${known.join(', ')}`);
        }
      } else if (iss.code === 'invalid_type' && getIn(data, path) === undefined) {
        diags.error(`lab spec: missing required key "${path.join('.')}"`, pos(path.slice(0, -1)));
      } else {
        diags.error(`lab spec: ${where}${iss.message}`, pos(path));
      }
    }
    diags.throwIfErrors();
  }
  const spec = r.data!;
  const hostNames = new Set<string>();
  spec.hosts.forEach((h, i) => {
    if (hostNames.has(h.name)) diags.error(`lab spec: duplicate host name "${h.name}"`, pos(['hosts', i, 'name']));
    hostNames.add(h.name);
  });
  spec.hosts.forEach((h, i) =>
    h.groups.forEach((g, j) => {
      if (RESERVED_GROUPS.includes(g)) diags.error(`lab spec: "${g}" is a reserved group name`, pos(['hosts', i, 'groups', j]));
      else if (hostNames.has(g)) diags.error(`lab spec: group "${g}" has the name of a host`, pos(['hosts', i, 'groups', j]));
    }),
  );
  spec.hosts.forEach((h, i) => {
    if (h.images.length && !h.docker) {
      diags.error(`lab spec: host "${h.name}" lists images but has no Docker engine of its own; set "docker: true" on it or remove images`, keyPos(['hosts', i, 'images']));
    }
    h.images.forEach((img, j) => {
      if (h.images.indexOf(img) !== j) diags.error(`lab spec: image "${img}" is listed twice for "${h.name}"`, pos(['hosts', i, 'images', j]));
    });
  });
  diags.throwIfErrors();
  return spec;
}

export function parseLabSpec(text: string, file: string): LabSpec {
  const yaml = parseYaml(text, file);
  return validateLabSpec(yaml.data, yaml);
}

export function loadLabSpec(file: string): LabSpec {
  const yaml = loadYamlFile(file);
  return validateLabSpec(yaml.data, yaml);
}

/** `--hosts N`: hosts lab1..labN, all in the `lab` group only. */
export function specFromCount(n: number, name = 'default'): LabSpec {
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new UserError(`--hosts: expected a whole number from 1 to 100, got ${n}`);
  return validateLabSpec({ name, hosts: Array.from({ length: n }, (_, i) => ({ name: `lab${i + 1}` })) });
}
