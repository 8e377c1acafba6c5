/**
 * End to end, the pip module on a real Debian lab host, offline: python3-venv comes from the
 * lab's apt mirror, the packages are tiny pure-Python wheels written by hand in the test (a zip
 * with METADATA, WHEEL and RECORD) into a folder on the host, and pip reads only that folder
 * (--no-index --find-links). Through the real engine: a missing virtualenv is created and the
 * wheel installed (check mode changes nothing, the second run nothing); a newer wheel leaves
 * state: present alone and is taken by state: latest; absent uninstalls.
 */
import { expect } from 'chai';
import { converges as convergesOn, outcome as outcomeOn, playOn } from '../helpers/converge.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e1';
const VENV = '/opt/tsplay-e2e-venv';
const WHEELS = '/srv/tsplay-wheels';
const ARGS = `--no-index --find-links ${WHEELS}`;

/** Writes tsplay_hello-VERSION-py3-none-any.whl into the folder given (argv: version, folder). */
const WHEEL_PY = `
import base64, hashlib, sys, zipfile
ver, out = sys.argv[1], sys.argv[2]
info = 'tsplay_hello-%s.dist-info' % ver
files = {
    'tsplay_hello/__init__.py': 'VERSION = %r\\n' % ver,
    info + '/METADATA': 'Metadata-Version: 2.1\\nName: tsplay-hello\\nVersion: %s\\nSummary: tsplay e2e\\n' % ver,
    info + '/WHEEL': 'Wheel-Version: 1.0\\nGenerator: tsplay-e2e\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
}
record = []
with zipfile.ZipFile('%s/tsplay_hello-%s-py3-none-any.whl' % (out, ver), 'w') as z:
    for path, text in files.items():
        data = text.encode()
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append('%s,sha256=%s,%d' % (path, digest, len(data)))
    record.append(info + '/RECORD,,')
    z.writestr(info + '/RECORD', '\\n'.join(record) + '\\n')
`;

describe('pip in a virtualenv from local wheels (end to end)', function () {
  this.timeout(10 * 60_000);
  let lab: SharedLab;
  let t0 = 0;
  const play = playOn(HOST);
  const outcome = (r: Awaited<ReturnType<SharedLab['run']>>) => outcomeOn(r, HOST);

  async function sh(cmd: string, input?: string): Promise<string> {
    const r = await lab.sh(HOST, cmd, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }
  const wheel = (version: string) => sh(`python3 - ${version} ${WHEELS}`, WHEEL_PY);
  const installed = () => lab.sh(HOST, `${VENV}/bin/python -c 'import tsplay_hello; print(tsplay_hello.VERSION)' 2>&1; ls ${VENV} 2>&1 | head -3`).then((r) => r.stdout);

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    lab = await sharedLab();
    await sh('python3 -c "import ensurepip, venv" 2>/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv >/dev/null; }');
    await sh(`rm -rf ${VENV} ${WHEELS} && mkdir -p ${WHEELS}`);
    await wheel('1.0');
  });

  after(async () => {
    if (lab) await lab.sh(HOST, `rm -rf ${VENV} ${WHEELS}`);
    console.log(`      [pip: ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  });

  it('creates the virtualenv and installs the wheel: check mode, first run, in state', async () => {
    const { check, first } = await convergesOn(lab, HOST, play(`- name: hello\n  pip: {name: 'tsplay-hello>=1.0', virtualenv: ${VENV}, extra_args: '${ARGS}'}`), installed);
    expect(check.result('hello', HOST).changes).to.deep.equal([`create the virtualenv ${VENV}`, 'install tsplay-hello>=1.0']);
    expect(first.result('hello', HOST).status).to.equal('changed');
    expect(await installed()).to.match(/^1\.0\n/);
  });

  it('a newer wheel: present stays, check mode of latest names the upgrade, latest takes it once', async () => {
    await wheel('1.1');
    const present = await lab.run(play(`- name: present\n  pip: {name: tsplay-hello, virtualenv: ${VENV}, extra_args: '${ARGS}'}`));
    expect(outcome(present)).to.deep.equal({ present: 'ok' });
    const latest = play(`- name: latest\n  pip: {name: tsplay-hello, state: latest, virtualenv: ${VENV}, extra_args: '${ARGS}'}`);
    const check = await lab.run(latest, { check: true });
    expect(check.result('latest', HOST).changes).to.deep.equal(['upgrade tsplay-hello: 1.0 -> 1.1']);
    expect(await installed()).to.match(/^1\.0\n/);
    expect(outcome(await lab.run(latest))).to.deep.equal({ latest: 'changed' });
    expect(await installed()).to.match(/^1\.1\n/);
    expect(outcome(await lab.run(latest))).to.deep.equal({ latest: 'ok' });
  });

  it('a version that is not there fails with pip\'s reason before anything changes; absent uninstalls', async () => {
    const missing = await lab.run(play(`- name: pinned\n  pip: {name: tsplay-hello, version: '9.9', virtualenv: ${VENV}, extra_args: '${ARGS}'}`));
    expect(outcome(missing).pinned).to.match(/^failed: pip: .*tsplay-hello==9\.9/);
    expect(await installed()).to.match(/^1\.1\n/);
    const { first } = await convergesOn(lab, HOST, play(`- name: gone\n  pip: {name: tsplay_hello, state: absent, virtualenv: ${VENV}}`), installed);
    expect(first.result('gone', HOST).changes).to.deep.equal(['uninstall tsplay-hello (1.1)']);
    expect(await installed()).to.include('ModuleNotFoundError');
  });
});
