/**
 * End to end, ini_file on a real Debian lab host through the engine and SSH: check mode plans
 * the edit and leaves the file alone, the first run writes what Ansible's ini_file writes, the
 * second changes nothing; absent removes an option and a whole section, with a backup.
 */
import { expect } from 'chai';
import { converges as convergesOn, outcome as outcomeOn, playOn } from '../helpers/converge.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e1';
const DIR = '/srv/e2e-ini';

describe('ini_file (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;
  const play = playOn(HOST);
  const converges = (playbook: string, inspect: () => Promise<string>) => convergesOn(lab, HOST, playbook, inspect);

  async function sh(cmd: string, input?: string): Promise<string> {
    const r = await lab.sh(HOST, cmd, input === undefined ? undefined : { input });
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }
  const files = () => sh(`cd ${DIR} && for f in $(ls -A); do stat -c '%n %U:%G %a' "$f"; cat "$f"; echo; done`);

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
  });
  beforeEach(() => sh(`rm -rf ${DIR} && mkdir -p ${DIR}`));
  after(() => sh(`rm -rf ${DIR}`));

  it('sets options in an existing file, creates a new one, then is in state', async () => {
    await sh(`cat > ${DIR}/docker-ce.repo`, '[docker-ce-stable]\nname=Docker CE Stable\n#gpgcheck = 0\nenabled=0\n\n[docker-ce-test]\nenabled=0\n');
    const { check } = await converges(
      play(`- name: gpgcheck
  ini_file: {path: ${DIR}/docker-ce.repo, section: docker-ce-stable, option: gpgcheck, value: 1}
- name: enabled
  ini_file: {path: ${DIR}/docker-ce.repo, section: docker-ce-stable, option: enabled, value: "1", no_extra_spaces: true}
- name: new section
  ini_file: {path: ${DIR}/docker-ce.repo, section: docker-ce-nightly, option: enabled, value: "0"}
- name: new file
  ini_file: {path: ${DIR}/pip.conf, section: global, option: timeout, value: 60, mode: "0600"}`),
      files,
    );
    // Check mode plans on what the earlier tasks would have written.
    expect(check.result('enabled', HOST).diffs?.[0]?.after).to.equal('[docker-ce-stable]\nname=Docker CE Stable\ngpgcheck = 1\nenabled=1\n\n[docker-ce-test]\nenabled=0\n');
    expect(await sh(`cat ${DIR}/docker-ce.repo`)).to.equal('[docker-ce-stable]\nname=Docker CE Stable\ngpgcheck = 1\nenabled=1\n\n[docker-ce-test]\nenabled=0\n[docker-ce-nightly]\nenabled = 0\n');
    expect(await sh(`cat ${DIR}/pip.conf; stat -c %a ${DIR}/pip.conf`)).to.equal('\n[global]\ntimeout = 60\n600\n');
  });

  it('removes an option and a section, keeping a backup', async () => {
    await sh(`cat > ${DIR}/app.ini`, '[main]\nproxy = a\n#proxy = b\nx = 1\n[old]\ny = 2\n');
    const { first } = await converges(
      play(`- name: no proxy
  ini_file: {path: ${DIR}/app.ini, section: main, option: proxy, state: absent, backup: true}
- name: no old section
  ini_file: {path: ${DIR}/app.ini, section: old, state: absent}`),
      files,
    );
    expect(first.result('no proxy', HOST).changes).to.deep.equal([`[main] proxy: option changed in ${DIR}/app.ini`]);
    expect(await sh(`cat ${DIR}/app.ini`)).to.equal('[main]\n#proxy = b\nx = 1\n');
    expect(await sh(`cat ${DIR}/app.ini.*~`)).to.equal('[main]\nproxy = a\n#proxy = b\nx = 1\n[old]\ny = 2\n');
  });

  it('fails clearly on a missing file with create: false', async () => {
    const r = await lab.run(play(`- name: strict\n  ini_file: {path: ${DIR}/none.ini, section: a, option: b, value: c, create: false}`));
    expect(outcomeOn(r, HOST)).to.deep.equal({ strict: `failed: ${DIR}/none.ini does not exist and create is false` });
  });
});
