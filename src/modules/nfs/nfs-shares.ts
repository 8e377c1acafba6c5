/**
 * `nfs-shares`: NFS shares with a private folder per user and a shared folder where every
 * member can create files but only remove their own (setgid + sticky, mode 3770), exported to
 * the given clients; or, with role: client, the NFS client, mount points and fstab entries.
 * Server side in nfs-server.ts, client side in nfs-client.ts, parameters in nfs-params.ts.
 */
import { z } from 'zod';
import { defineModule, type Fact } from '../../core/module.js';
import { planClient, probeClient } from './lib/nfs-client.js';
import { nfsParams, settings } from './lib/nfs-params.js';
import { planServer, probeServer } from './lib/nfs-server.js';

const output = z.object({
  role: z.string().describe('server or client'),
  folders: z.unknown().optional().describe('Server: {root, users: {NAME: path}, shared}'),
  exports_file: z.string().optional().describe('Server: the exports file'),
  exported: z.array(z.string()).optional().describe('Server: the exported folders'),
  mounts: z.array(z.string()).optional().describe('Client: the mount points'),
  not_mounted: z.array(z.string()).optional().describe('Client: mount points left unmounted because the kernel cannot mount NFS'),
  not_mounted_reason: z.string().optional().describe('Client: why they were not mounted'),
});

export default defineModule<typeof nfsParams, Record<string, unknown>>({
  name: 'nfs-shares',
  summary: 'NFS server with per-user folders and a sticky shared folder, exported to clients; or an NFS client with fstab mounts.',
  description:
    'Server: installs nfs-kernel-server; creates the common group and the users (each with a private group; give uid/gid ' +
    'so ids match on every host, NFS checks numbers); ROOT/USER owned by the user, 0700 (or 0750); ROOT/SHARED owned by ' +
    'root:GROUP with mode 3770 (setgid: new files get the group; sticky: members cannot delete each other\'s files); ' +
    'writes the exports to exports_file and runs exportfs -ra only when they changed (or are missing from the export ' +
    'table). Client (role: client): installs nfs-common, creates the same accounts, the mount points and one fstab ' +
    'line per mount point, and mounts them when the kernel supports NFS (otherwise it says so and leaves the fstab entry).',
  examples: [
    {
      title: 'Server: three users, a shared folder, exported to the LAN',
      task: {
        name: 'NFS shares',
        'nfs-shares': {
          root: '/usr/local/share',
          group: { name: 'skylab', gid: 3000 },
          users: [
            { name: 'nik', uid: 3001 },
            { name: 'emin', uid: 3002 },
            { name: 'saif', uid: 3003 },
          ],
          exports: [{ path: 'shared', clients: ['192.168.165.0/24'] }, { path: 'nik', clients: ['192.168.165.11'] }],
        },
      },
    },
    {
      title: 'Client: the same accounts and the shared folder mounted',
      task: {
        name: 'Mount the shared folder',
        'nfs-shares': {
          role: 'client',
          group: { name: 'skylab', gid: 3000 },
          users: [{ name: 'nik', uid: 3001 }],
          mounts: [{ src: '192.168.165.1:/usr/local/share/shared', path: '/mnt/shared', options: 'rw,hard,_netdev' }],
        },
      },
    },
  ],
  params: nfsParams,
  output,
  probe: (p): Record<string, Fact> => (p.role === 'client' ? probeClient(settings(p)) : probeServer(settings(p))),
  plan: (p, f, ctx) => (p.role === 'client' ? planClient(settings(p), f, ctx) : planServer(settings(p), f, ctx)),
});
