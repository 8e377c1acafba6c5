/**
 * nfs-shares' accounts, on servers and clients alike, planned by the core `group` and `user`
 * modules: the common group, and each user with a private group of its own name (created
 * explicitly, gid = uid when a uid is given, so it does not depend on USERGROUPS_ENAB) and
 * membership in the common group. NFS (AUTH_SYS) checks numeric ids, so a uid/gid given here
 * should be the same on every host; an existing account with another id is changed by
 * usermod/groupmod (files keep their old ids). An existing user keeps its primary group.
 */
import type { Fact, PlanContext } from '../../../core/module.js';
import groupModule from '../../system/group.js';
import userModule from '../../system/user.js';
import { keys } from '../../../facts/keys.js';
import type { GroupFact } from '../../../facts/group.js';
import type { UserFact } from '../../../facts/user.js';
import { PlanBuilder, part, planPart, probePart } from '../../lib/compose.js';
import type { Account, NfsSettings } from './nfs-params.js';

function groupPart(g: Account) {
  return part(groupModule, { name: g.name, ...(g.id !== undefined ? { gid: g.id } : {}) });
}

/** A new user gets its private group as primary group (-g); an existing one keeps its own. */
function userPart(u: Account, common: string | undefined, isNew: boolean) {
  return part(userModule, {
    name: u.name,
    ...(u.id !== undefined ? { uid: u.id } : {}),
    ...(common !== undefined ? { groups: [common], append: true } : {}),
    ...(isNew ? { group: u.name } : {}),
    create_home: false,
  });
}

export function probeAccounts(s: NfsSettings): Record<string, Fact> {
  const facts: Record<string, Fact> = s.group ? probePart(groupPart(s.group)) : {};
  for (const u of s.users) {
    Object.assign(facts, probePart(userPart(u, s.group?.name, false)), probePart(groupPart(u)));
  }
  return facts;
}

/** Adds the account steps; returns the failure message of a failed part. */
export function planAccounts(b: PlanBuilder, s: NfsSettings, f: Record<string, unknown>, ctx: PlanContext): string | undefined {
  if (s.group) {
    const failed = b.add(planPart(groupPart(s.group), f, ctx));
    if (failed) return failed;
  }
  for (const u of s.users) {
    const isNew = !(f[keys.user(u.name)] as UserFact).exists;
    if (isNew && !(f[keys.group(u.name)] as GroupFact).exists) {
      const failed = b.add(planPart(groupPart(u), f, ctx));
      if (failed) return failed;
    }
    const failed = b.add(planPart(userPart(u, s.group?.name, isNew), f, ctx));
    if (failed) return failed;
  }
  return undefined;
}

/** The user's primary group: its current one, or the private group useradd creates. */
export function primaryGroup(name: string, f: Record<string, unknown>): string {
  const u = f[keys.user(name)] as UserFact;
  return u.exists && u.group ? u.group : name;
}
