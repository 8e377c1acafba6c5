/**
 * Every module tsplay ships, loaded: for the library's users and tests that want them all. The
 * CLI does not load this file: it uses catalog.ts, the same list as names and loaders, and loads
 * only the modules a playbook uses. A new module goes in both lists (a test compares them).
 * A module is one file in the folder of its family, named as the module (`ufw/install-ufw.ts`);
 * helpers a family keeps to itself are in its `lib/`, helpers several families share in
 * `modules/lib/`.
 */
import type { AnyModule } from '../core/module.js';
import command from './commands/command.js';
import shell from './commands/shell.js';
import assert from './control/assert.js';
import debug from './control/debug.js';
import fail from './control/fail.js';
import includeVars from './control/include_vars.js';
import meta from './control/meta.js';
import pause from './control/pause.js';
import setFact from './control/set_fact.js';
import setup from './control/setup.js';
import composeDeploy from './docker/compose-deploy.js';
import composeSegmentation from './docker/compose-segmentation.js';
import dockerDaemon from './docker/docker-daemon.js';
import dockerFirewall from './docker/docker-firewall.js';
import dockerSwarmInit from './docker/docker-swarm-init.js';
import blockinfile from './files/blockinfile.js';
import copy from './files/copy.js';
import cron from './system/cron.js';
import file from './files/file.js';
import find from './files/find.js';
import getUrl from './files/get_url.js';
import iniFile from './files/ini_file.js';
import git from './git/git.js';
import lineinfile from './files/lineinfile.js';
import replace from './files/replace.js';
import stat from './files/stat.js';
import template from './files/template.js';
import unarchive from './files/unarchive.js';
import nfsShares from './nfs/nfs-shares.js';
import uri from './net/uri.js';
import apt from './packages/apt.js';
import aptKey from './packages/apt_key.js';
import aptRepository from './packages/apt_repository.js';
import deb822Repository from './packages/deb822_repository.js';
import packageModule from './packages/package.js';
import pip from './packages/pip.js';
import configureSquidProxy from './squid/configure-squid-proxy.js';
import authorizedKey from './system/authorized_key.js';
import group from './system/group.js';
import service from './system/service.js';
import systemd from './system/systemd.js';
import sysctl from './system/sysctl.js';
import hostname from './system/hostname.js';
import mount from './system/mount.js';
import ping from './system/ping.js';
import timezone from './system/timezone.js';
import user from './system/user.js';
import waitFor from './system/wait_for.js';
import installUfw from './ufw/install-ufw.js';

/** In the order `tsplay doc` lists them: the general modules by name, then the security modules. */
export const BUNDLED_MODULES: AnyModule[] = [
  apt,
  aptKey,
  aptRepository,
  assert,
  authorizedKey,
  blockinfile,
  command,
  copy,
  cron,
  deb822Repository,
  debug,
  fail,
  file,
  find,
  getUrl,
  git,
  group,
  hostname,
  includeVars,
  ping,
  iniFile,
  lineinfile,
  meta,
  mount,
  packageModule,
  pause,
  pip,
  replace,
  service,
  setFact,
  setup,
  shell,
  stat,
  sysctl,
  systemd,
  template,
  timezone,
  unarchive,
  uri,
  user,
  waitFor,
  installUfw,
  dockerFirewall,
  configureSquidProxy,
  nfsShares,
  composeDeploy,
  composeSegmentation,
  dockerDaemon,
  dockerSwarmInit,
] as AnyModule[];
