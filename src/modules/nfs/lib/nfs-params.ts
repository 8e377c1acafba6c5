/**
 * Parameters of nfs-shares, checked at validation time: account names, export clients (CIDR,
 * host name or pattern, @netgroup, *), export options against the keywords exportfs knows,
 * mount sources (`host:/path`) and mount options. Server-only and client-only parameters are
 * refused on the other role. Defaults of server-only parameters are applied by `serverSettings`.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { ACCOUNT } from '../../system/user.js';
import { cidrError, isDomainName, isIp, plainAbsPath } from '../../lib/validators.js';

export const NFS_DEFAULTS = {
  root: '/srv/nfs',
  user_folder_mode: '0700' as const,
  shared_folder: 'shared',
  exports_file: '/etc/exports.d/tsplay.exports',
};

const accountName = z.string().regex(ACCOUNT, { message: 'an account name is lower case letters, digits, _ . - and starts with a letter or _' });

const userSpec = z.union([
  accountName,
  z.strictObject({
    name: accountName.describe('User name'),
    uid: z.number().int().min(1).optional().describe('User id: give the same one on the server and every client'),
  }),
]);

const groupSpec = z.union([
  accountName,
  z.strictObject({
    name: accountName.describe('Group name'),
    gid: z.number().int().min(1).optional().describe('Group id: give the same one on the server and every client'),
  }),
]);

/** Checks one exports(5) client: "*", @netgroup, an address or network, a host name or pattern. */
export function clientError(c: string): string | undefined {
  if (c === '*') return undefined;
  if (c.startsWith('@')) return /^@[A-Za-z0-9_.-]+$/.test(c) ? undefined : `"${c}" is not a netgroup name`;
  if (/^[\d./]+$/.test(c) || c.includes(':')) return cidrError(c);
  if (/[*?]/.test(c)) {
    return /^[A-Za-z0-9*?.-]+$/.test(c) ? undefined : `"${c}" is not a host name pattern (letters, digits, dashes, dots, * and ?)`;
  }
  return isDomainName(c) ? undefined : `"${c}" is not a client: use a network (192.168.165.0/24), an address, a host name, *.domain, @netgroup or *`;
}

const exportClient = z.string().superRefine((c, ctx) => {
  const err = clientError(c);
  if (err) ctx.addIssue({ code: 'custom', message: err });
});

/** Options with their own parameter: giving them in `options` would contradict it. */
const DEDICATED: Record<string, string> = {
  rw: 'access: rw',
  ro: 'access: ro',
  sync: 'sync: true',
  async: 'sync: false',
  subtree_check: 'subtree_check: true',
  no_subtree_check: 'subtree_check: false',
  root_squash: 'root_squash: true',
  no_root_squash: 'root_squash: false',
};

/** Keywords nfs-utils' exportfs accepts (each checked against exportfs -ra in nfs-real.test.ts). */
export const EXPORT_FLAGS = [
  'secure', 'insecure', 'wdelay', 'no_wdelay', 'hide', 'nohide', 'crossmnt', 'nocrossmnt', 'all_squash', 'no_all_squash',
  'secure_locks', 'insecure_locks', 'auth_nlm', 'no_auth_nlm', 'acl', 'no_acl', 'pnfs', 'no_pnfs', 'security_label',
  'nordirplus', 'mp', 'mountpoint',
];
const EXPORT_VALUED: Record<string, RegExp> = {
  anonuid: /^\d+$/,
  anongid: /^\d+$/,
  fsid: /^(root|\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i,
  sec: /^(sys|krb5|krb5i|krb5p)(:(sys|krb5|krb5i|krb5p))*$/,
  mp: /^\/[^\s,()]*$/,
  mountpoint: /^\/[^\s,()]*$/,
  refer: /^[^\s,()]+$/,
  replicas: /^[^\s,()]+$/,
};

export function exportOptionError(o: string): string | undefined {
  if (DEDICATED[o]) return `"${o}" has its own parameter: write ${DEDICATED[o]}`;
  if (EXPORT_FLAGS.includes(o)) return undefined;
  const eq = o.indexOf('=');
  const [key, value] = eq > 0 ? [o.slice(0, eq), o.slice(eq + 1)] : [o, undefined];
  const re = EXPORT_VALUED[key];
  if (!re) return `"${o}" is not an export option exportfs knows (see man 5 exports)`;
  if (value === undefined || !re.test(value)) return `"${o}": bad value for ${key}`;
  return undefined;
}

const exportOption = z.string().superRefine((o, ctx) => {
  const err = exportOptionError(o);
  if (err) ctx.addIssue({ code: 'custom', message: err });
});

/** A path in exports: absolute, or relative to root (e.g. "shared"). */
const exportPath = z.string().superRefine((v, ctx) => {
  if (v === '' || /\s/.test(v) || v.split('/').includes('..')) {
    ctx.addIssue({ code: 'custom', message: `"${v}" must be a path without blanks or "..", absolute or relative to root` });
  }
});

const exportSpec = z.strictObject({
  path: exportPath.describe('Folder to export: absolute, or relative to root (e.g. "shared" or a user name)'),
  clients: z.array(exportClient).min(1).describe('Who may mount it: networks (192.168.165.0/24), addresses, host names, *.domain, @netgroup or *'),
  access: z.enum(['rw', 'ro']).default('rw').describe('Read-write or read-only'),
  sync: z.boolean().default(true).describe('Reply only after data reached the disk (sync); false: async, faster but may lose data on a crash'),
  subtree_check: z.boolean().default(false).describe('Check that files are inside the exported subtree (slower; rarely wanted)'),
  root_squash: z.boolean().default(true).describe("Map the clients' root to nobody (root_squash); false lets client root act as root on the share"),
  options: z.array(exportOption).default([]).describe('More exports(5) options, e.g. all_squash, anonuid=1000, sec=krb5p'),
});

const mountSrc = z.string().superRefine((v, ctx) => {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\/\S*)$/.exec(v);
  const host = m?.[1]?.replace(/^\[(.*)\]$/, '$1');
  if (!m || !host || !(isIp(host) || isDomainName(host))) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not an NFS source: write SERVER:/path, e.g. 192.168.165.1:/srv/nfs/shared` });
  }
});

const mountSpec = z.strictObject({
  src: mountSrc.describe('The export: SERVER:/path (IPv6 servers in brackets)'),
  path: plainAbsPath.describe('Mount point on this host (created when missing)'),
  fstype: z.enum(['nfs', 'nfs4']).default('nfs').describe('nfs lets the client negotiate the version; nfs4 forces NFSv4'),
  options: z
    .string()
    .regex(/^[^\s,]+(,[^\s,]+)*$/, { message: 'mount options are a comma-separated list without blanks, e.g. rw,hard,_netdev' })
    .default('defaults,_netdev')
    .describe('Mount options for fstab; noauto: write the entry but do not mount'),
});

export const nfsParams = z
  .object({
    role: z.enum(['server', 'client']).default('server').describe('server: folders, exports and nfs-kernel-server; client: nfs-common, mount points and fstab'),
    group: groupSpec.optional().describe('Common group: owns the shared folder; every user joins it. Name, or {name, gid}'),
    users: z.array(userSpec).default([]).describe('Users (created when missing, added to group); a server gives each a private folder. Names, or {name, uid}'),
    root: plainAbsPath.optional().describe(`Server: folder holding the user folders and the shared folder (default ${NFS_DEFAULTS.root})`),
    user_folder_mode: z
      .enum(['0700', '0750'])
      .optional()
      .describe("Server: mode of each user's folder: 0700 only the user, 0750 the user's own group may read (default 0700)"),
    shared_folder: z
      .union([z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'shared_folder is a folder name inside root' }), z.literal(false)])
      .optional()
      .describe(`Server: name of the shared folder in root (mode 3770, owned by group), or false for none (default "${NFS_DEFAULTS.shared_folder}")`),
    exports: z.array(exportSpec).optional().describe('Server: the exports, written to exports_file; exportfs -ra runs when they change'),
    exports_file: plainAbsPath.optional().describe(`Server: the file tsplay owns for its exports (default ${NFS_DEFAULTS.exports_file}; /etc/exports to own that file)`),
    mounts: z.array(mountSpec).optional().describe('Client: NFS mounts (one managed /etc/fstab line per mount point)'),
  })
  .superRefine((p, ctx) => {
    const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
    const serverOnly = ['root', 'user_folder_mode', 'shared_folder', 'exports', 'exports_file'] as const;
    if (p.role === 'client') {
      for (const k of serverOnly) if (p[k] !== undefined) issue([k], `${k} is a server parameter; this task has role: client`);
    } else if (p.mounts !== undefined) issue(['mounts'], 'mounts is a client parameter: add role: client');

    const names = p.users.map((u) => (typeof u === 'string' ? u : u.name));
    const groupName = typeof p.group === 'string' ? p.group : p.group?.name;
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) issue(['users', i], `user ${n} is listed twice`);
      if (n === groupName) issue(['users', i], `user ${n} has the name of the common group: each user gets a private group of its own name`);
      if (p.role === 'server' && n === (p.shared_folder ?? NFS_DEFAULTS.shared_folder)) issue(['users', i], `user ${n} would get the shared folder as its own folder: rename shared_folder`);
    });
    if (p.role === 'server' && p.shared_folder !== false && groupName === undefined) {
      issue(['group'], 'the shared folder needs a common group that owns it: give group, or shared_folder: false');
    }

    const seen = new Map<string, number>();
    (p.exports ?? []).forEach((e, i) => {
      const path = resolveExportPath(e.path, p.root ?? NFS_DEFAULTS.root);
      e.clients.forEach((c, j) => {
        const key = `${path} ${c}`;
        if (seen.has(key)) issue(['exports', i, 'clients', j], `${path} is already exported to ${c} (exports item ${seen.get(key)! + 1})`);
        else seen.set(key, i);
      });
    });
    const points = (p.mounts ?? []).map((m) => normalizeDir(m.path));
    points.forEach((pt, i) => {
      if (points.indexOf(pt) !== i) issue(['mounts', i, 'path'], `mount point ${pt} is listed twice`);
    });
  });

export type NfsParams = z.output<typeof nfsParams>;
export type ExportSpec = z.output<typeof exportSpec>;
export type MountSpec = z.output<typeof mountSpec>;

/** "/mnt/a/" and "/mnt//a" -> "/mnt/a". */
export const normalizeDir = (path: string): string => posix.normalize(path).replace(/(.)\/$/, '$1');

export function resolveExportPath(path: string, root: string): string {
  return normalizeDir(path.startsWith('/') ? path : posix.join(root, path));
}

export interface Account {
  name: string;
  id?: number;
}

/** The parameters with the server defaults applied and accounts as {name, id}. */
export function settings(p: NfsParams) {
  const account = (a: string | { name: string; uid?: number; gid?: number }): Account =>
    typeof a === 'string' ? { name: a } : { name: a.name, id: 'uid' in a ? a.uid : a.gid };
  return {
    role: p.role,
    group: p.group === undefined ? undefined : account(p.group),
    users: p.users.map(account),
    root: normalizeDir(p.root ?? NFS_DEFAULTS.root),
    userFolderMode: p.user_folder_mode ?? NFS_DEFAULTS.user_folder_mode,
    sharedFolder: p.shared_folder ?? NFS_DEFAULTS.shared_folder,
    exports: p.exports ?? [],
    exportsFile: p.exports_file ?? NFS_DEFAULTS.exports_file,
    mounts: (p.mounts ?? []).map((m) => ({ ...m, path: normalizeDir(m.path) })),
  };
}

export type NfsSettings = ReturnType<typeof settings>;
