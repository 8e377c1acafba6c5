import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { ensurePrerequisites } from '../../src/lab/prerequisites.js';

describe('lab prerequisites', () => {
  it('names every missing program and the packages that provide it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tsplay-path-'));
    const savedPath = process.env.PATH;
    process.env.PATH = empty; // nothing can be found
    let error: unknown;
    try {
      await ensurePrerequisites({ install: false });
    } catch (e) {
      error = e;
    } finally {
      process.env.PATH = savedPath;
      rmSync(empty, { recursive: true, force: true });
    }
    expect(error).to.be.instanceOf(UserError);
    const message = (error as UserError).message;
    expect(message).to.include('docker (runs the lab hosts; Debian package docker.io)');
    expect(message).to.include('debootstrap (builds the Debian image; Debian package debootstrap)');
    expect(message).to.include('install with: apt-get install docker.io debootstrap openssh-client tar dpkg');
    expect(message).to.not.include('running Docker engine'); // not checked without a docker client
  });
});
