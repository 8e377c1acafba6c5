/**
 * Every module tsplay ships: the one registration list, as names and loaders, so that a command
 * loads only the modules it uses (a playbook's tasks; `tsplay doc` all of them). A module is one
 * file in the folder of its family, named as the module (`ufw/install-ufw.ts`); helpers a family
 * keeps to itself are in its `lib/`, helpers several families share in `modules/lib/`.
 */
import { loadBundledModule } from './load-bundled.js';
import { ModuleRegistry } from './registry.js';

export { loadBundledModule };

/**
 * Name and file (relative to this folder) of each, in the order `tsplay doc` lists them: the
 * general modules by name, then the security modules. index.ts imports the same files eagerly.
 */
export const BUNDLED_MODULE_FILES: ReadonlyArray<readonly [name: string, file: string]> = [
  ['apt', './packages/apt.js'],
  ['apt_key', './packages/apt_key.js'],
  ['apt_repository', './packages/apt_repository.js'],
  ['assert', './control/assert.js'],
  ['authorized_key', './system/authorized_key.js'],
  ['blockinfile', './files/blockinfile.js'],
  ['command', './commands/command.js'],
  ['copy', './files/copy.js'],
  ['cron', './system/cron.js'],
  ['deb822_repository', './packages/deb822_repository.js'],
  ['debug', './control/debug.js'],
  ['fail', './control/fail.js'],
  ['file', './files/file.js'],
  ['find', './files/find.js'],
  ['get_url', './files/get_url.js'],
  ['git', './git/git.js'],
  ['group', './system/group.js'],
  ['hostname', './system/hostname.js'],
  ['include_vars', './control/include_vars.js'],
  ['ping', './system/ping.js'],
  ['ini_file', './files/ini_file.js'],
  ['lineinfile', './files/lineinfile.js'],
  ['meta', './control/meta.js'],
  ['mount', './system/mount.js'],
  ['package', './packages/package.js'],
  ['pause', './control/pause.js'],
  ['pip', './packages/pip.js'],
  ['replace', './files/replace.js'],
  ['service', './system/service.js'],
  ['set_fact', './control/set_fact.js'],
  ['setup', './control/setup.js'],
  ['shell', './commands/shell.js'],
  ['stat', './files/stat.js'],
  ['sysctl', './system/sysctl.js'],
  ['systemd', './system/systemd.js'],
  ['template', './files/template.js'],
  ['timezone', './system/timezone.js'],
  ['unarchive', './files/unarchive.js'],
  ['uri', './net/uri.js'],
  ['user', './system/user.js'],
  ['wait_for', './system/wait_for.js'],
  ['install-ufw', './ufw/install-ufw.js'],
  ['docker-firewall', './docker/docker-firewall.js'],
  ['configure-squid-proxy', './squid/configure-squid-proxy.js'],
  ['nfs-shares', './nfs/nfs-shares.js'],
  ['compose-deploy', './docker/compose-deploy.js'],
  ['compose-segmentation', './docker/compose-segmentation.js'],
  ['docker-daemon', './docker/docker-daemon.js'],
  ['docker-swarm-init', './docker/docker-swarm-init.js'],
];

/** A registry of the bundled modules, each loaded when first needed (ModuleRegistry.load). */
export function bundledRegistry(): ModuleRegistry {
  const r = new ModuleRegistry();
  for (const [name, file] of BUNDLED_MODULE_FILES) r.addLazy(name, () => loadBundledModule(file));
  return r;
}
