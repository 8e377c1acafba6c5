/** The modules that ship with tsplay, one file each in this folder. */
import type { AnyModule } from '../../core/module.js';
import apt from './apt.js';
import assert from './assert.js';
import authorizedKey from './authorized_key.js';
import blockinfile from './blockinfile.js';
import command from './command.js';
import copy from './copy.js';
import debug from './debug.js';
import fail from './fail.js';
import file from './file.js';
import group from './group.js';
import lineinfile from './lineinfile.js';
import service from './service.js';
import setFact from './set_fact.js';
import setup from './setup.js';
import shell from './shell.js';
import template from './template.js';
import user from './user.js';
import waitFor from './wait_for.js';

export const BUILTIN_MODULES: AnyModule[] = [
  apt,
  assert,
  authorizedKey,
  blockinfile,
  command,
  copy,
  debug,
  fail,
  file,
  group,
  lineinfile,
  service,
  setFact,
  setup,
  shell,
  template,
  user,
  waitFor,
] as AnyModule[];
