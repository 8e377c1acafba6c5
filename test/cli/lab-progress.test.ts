/**
 * Lab progress: what a phase says it is doing (debootstrap and apt output read line by line),
 * and how the CLI shows phases: live listr2 rows with elapsed time on a terminal, plain lines
 * through a pipe, nothing for a library caller without a listener.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { plainView } from '../../src/cli/lab-progress.js';
import { aptProgress, debootstrapProgress, formatBytes, phase, type LabProgress } from '../../src/lab/progress.js';

const root = join(import.meta.dirname, '..', '..');
const driver = join(import.meta.dirname, 'fixtures', 'lab-progress-driver.ts');
const feed = (parse: (l: string) => string | undefined, lines: string[]) => lines.map(parse).filter(Boolean);

describe('lab progress', () => {
  describe('what a phase is doing', () => {
    it('debootstrap: packages retrieved, then each step with its count (index files are not packages)', () => {
      expect(
        feed(debootstrapProgress(), [
          'I: Retrieving InRelease ',
          'I: Checking Release signature',
          'I: Retrieving Packages ',
          'I: Validating Packages ',
          'I: Resolving dependencies of required packages...',
          'I: Retrieving adduser 3.134',
          'I: Validating adduser 3.134',
          'I: Retrieving apt 2.6.1',
          'I: Retrieving base-files 12.4+deb12u5',
          'I: Extracting adduser...',
          'I: Extracting apt...',
          'I: Installing core packages...',
          'I: Unpacking required packages...',
          'I: Unpacking adduser...',
          'I: Configuring required packages...',
          'I: Configuring apt...',
          'I: Base system installed successfully.',
        ]),
      ).to.deep.equal([
        'retrieved 1 packages',
        'retrieved 2 packages',
        'retrieved 3 packages',
        'extracting 1 of 3 packages',
        'extracting 2 of 3 packages',
        'unpacking the required packages',
        'unpacking 1 of 3 packages',
        'configuring the required packages',
        'configuring 1 of 3 packages',
        'base system installed',
      ]);
    });

    it('apt-get: package lists, then fetched / unpacking / setting up N of the total it announced', () => {
      expect(
        feed(aptProgress(), [
          'Hit:1 http://deb.debian.org/debian bookworm InRelease',
          'Get:2 http://deb.debian.org/debian bookworm-updates InRelease [55.4 kB]',
          'Reading package lists...',
          'The following NEW packages will be installed:',
          '  containerd docker.io runc',
          '0 upgraded, 3 newly installed, 0 to remove and 0 not upgraded.',
          'Need to get 40.1 MB of archives.',
          'Get:1 http://deb.debian.org/debian bookworm/main amd64 runc amd64 1.1.5 [2,710 kB]',
          'Get:2 http://deb.debian.org/debian bookworm/main amd64 containerd amd64 1.6.20 [25.9 MB]',
          'Fetched 40.1 MB in 3s (13.0 MB/s)',
          'Unpacking runc (1.1.5+ds1-1+deb12u1) ...',
          'Setting up runc (1.1.5+ds1-1+deb12u1) ...',
        ]),
      ).to.deep.equal([
        'updating package lists',
        'updating package lists',
        '3 packages to install',
        'fetched 1 of 3 packages',
        'fetched 2 of 3 packages',
        'unpacking 1 of 3 packages',
        'setting up 1 of 3 packages',
      ]);
    });

    it('bytes as people read them', () => {
      expect([formatBytes(512 * 1024), formatBytes(12.34 * 1024 ** 2), formatBytes(1.5 * 1024 ** 3)]).to.deep.equal(['512 kB', '12.3 MB', '1.50 GB']);
    });

    it('phase(): start, each new detail once, done with the seconds; nothing without a listener', async () => {
      const events: LabProgress[] = [];
      const r = await phase((e) => events.push(e), 'debootstrap', async (update) => {
        update('retrieved 1 packages');
        update('retrieved 1 packages');
        update('retrieved 2 packages');
        return 42;
      });
      expect(r).to.equal(42);
      expect(events.map((e) => [e.status, e.detail])).to.deep.equal([
        ['start', undefined],
        ['update', 'retrieved 1 packages'],
        ['update', 'retrieved 2 packages'],
        ['done', undefined],
      ]);
      expect(await phase(undefined, 'quiet', async (update) => (update('x'), 'fine'))).to.equal('fine');
    });
  });

  describe('how the CLI shows it', function () {
    this.timeout(60_000);

    it('without a terminal: the plain lines of before, and a line for the phase that failed', () => {
      let text = '';
      const view = plainView({ write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream);
      view.onProgress({ phase: 'base image', status: 'skip', seconds: 0, detail: 'reusing tsplay-lab:base-x' });
      view.onProgress({ phase: 'debootstrap', status: 'start', seconds: 0 });
      view.onProgress({ phase: 'debootstrap', status: 'update', seconds: 1, detail: 'retrieved 3 packages' });
      view.onProgress({ phase: 'debootstrap', status: 'done', seconds: 84.06 });
      view.onProgress({ phase: 'start hosts', status: 'start', seconds: 0 });
      void view.close(true);
      expect(text.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n')).to.deep.equal([
        'lab: base image: already done (reusing tsplay-lab:base-x)',
        'lab: debootstrap...',
        'lab: debootstrap done in 84.1 s',
        'lab: start hosts...',
        'lab: start hosts failed after 0.0 s',
      ]);
    });

    it('piped (the real phases of a driver, as `tsplay lab up` runs them): plain lines on stderr, no row', () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', driver], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
      expect(r.stderr.trim().split('\n')).to.deep.equal([
        'lab: base image: already done (reusing tsplay-lab:base-test)',
        'lab: debootstrap...',
        r.stderr.match(/lab: debootstrap done in 1\.\d s/)?.[0],
        'lab: start hosts...',
        r.stderr.match(/lab: start hosts done in 0\.\d s/)?.[0],
        'lab test: lab1 (172.18.0.2) — 1 change(s) in 2.0 s',
      ]);
      expect(r.status).to.equal(0);
    });

    function onTerminal(args = ''): { out: string; status: number | null } {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
      delete env.CI;
      const r = spawnSync('script', ['-qec', `stty cols 120 rows 40; node --import tsx ${driver} ${args}`, '/dev/null'], { cwd: root, encoding: 'utf8', env });
      return { out: r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''), status: r.status };
    }

    it('on a terminal: a live row per phase with its elapsed time and what it does, left with its duration', function () {
      if (spawnSync('script', ['--version']).status !== 0) this.skip();
      const { out, status } = onTerminal();
      expect(out).to.include('↓ base image: already done (reusing tsplay-lab:base-test)');
      expect(out, 'live: elapsed seconds and the detail').to.match(/debootstrap  1 s · retrieved [2-4] packages/);
      expect(out).to.match(/✔ debootstrap  1\.\d s/);
      expect(out).to.match(/✔ start hosts  0\.\d s/);
      expect(out, 'no plain lines on a terminal').to.not.include('lab: debootstrap...');
      expect(out.indexOf('✔ start hosts'), 'the summary comes after the rows').to.be.below(out.indexOf('lab test: lab1'));
      expect(status).to.equal(0);
    });

    it('on a terminal: the phase that failed ends as a failed row, then the error', function () {
      if (spawnSync('script', ['--version']).status !== 0) this.skip();
      const { out, status } = onTerminal('fail');
      expect(out).to.match(/✔ debootstrap  1\.\d s/);
      expect(out).to.match(/✖ start hosts  failed after 0\.\d s/);
      expect(out.indexOf('✖ start hosts')).to.be.below(out.indexOf('error: docker run failed'));
      expect(status).to.equal(1);
    });
  });
});
