/** Parameters shared by every module that writes a file (copy, template, lineinfile, blockinfile). */
import { z } from 'zod';
import { octalMode } from '../../../core/module.js';

export const attrParams = {
  mode: octalMode.optional().describe('Mode as a quoted string, e.g. "0644" or "u=rw,g=r,o=r"; default: keep the current mode (0644 for new files)'),
  owner: z.string().optional().describe('Owner (user name or uid); default: keep the current owner (the connecting user for new files)'),
  group: z.string().optional().describe('Group (name or gid); default: keep the current group'),
};

export const writeParams = {
  ...attrParams,
  backup: z.boolean().default(false).describe('Keep a timestamped copy of the previous file (path.YYYY-MM-DD@HH:MM:SS~) when it changes'),
  validate: z
    .string()
    .refine((v) => v.includes('%s'), { message: 'validate must contain %s (the path of the new file), e.g. "visudo -cf %s"' })
    .optional()
    .describe('Command that checks the new file before it replaces the old one; %s is the new file, e.g. "nginx -t -c %s"'),
};
