/**
 * OVSDB connection faults against a real ovsdb-server (faults.md B5, F1, F4, F2-like):
 * restart, SIGKILL with a transaction in flight, SIGSTOP past the probe interval,
 * missing socket, refused connection, permission denied.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from '../helpers/privileged.js';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { Vswitch } from '../../src/ovsdb/vswitch.js';
import { useLeakCheck } from '../helpers/leak.js';
import { withOvs } from '../helpers/ovs.js';
import { startOvs } from '../../sandbox/ovs.js';

useLeakCheck();

function isCode(code: ErrorCode, re?: RegExp) {
  return (e: unknown): boolean => e instanceof NetplumbError && e.code === code && (!re || re.test(e.message));
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FAST = { requestTimeoutMs: 3000, reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 50 } };

async function portCount(vsctl: (a: string[]) => Promise<string>, name: string): Promise<number> {
  return (await vsctl(['--no-wait', '--columns=_uuid', 'find', 'Port', `name=${name}`])).split('\n').filter(Boolean)
    .length;
}

describe('OVSDB connection faults (real ovsdb-server)', () => {
  it('F1: ovsdb-server restarted between two transactions: reconnect, re-sync, next transaction works', () =>
    withOvs(
      async (ovs, vs) => {
        await vs.addPort('ovs0', { name: 'p1', type: 'internal' }, { wait: true });
        const synced = new Promise((r) => vs.client.once('synced', r));
        await ovs.restartDb();
        await vs.addPort('ovs0', { name: 'p2', type: 'internal' }, { wait: true });
        await synced;
        assert.deepEqual(await vs.listPorts('ovs0'), ['p1', 'p2']);
        assert.equal((await ovs.vsctl(['list-ports', 'ovs0'])).trim(), 'p1\np2');
      },
      { client: FAST },
    ));

  it('server SIGKILLed while a transaction is in flight → OUTCOME_UNKNOWN; read back; retry leaves no duplicate', () =>
    withOvs(
      async (ovs, vs) => {
        process.kill(ovs.dbPid(), 'SIGSTOP');
        const inFlight = vs.addPort('ovs0', { name: 'p1', type: 'internal' }).catch((e: unknown) => e);
        await sleep(100); // the request is in the server's socket buffer
        await ovs.stopDb('SIGKILL');
        const err = await inFlight;
        assert.ok(isCode(ErrorCode.OUTCOME_UNKNOWN, /may or may not have been applied/)(err), String(err));
        await ovs.startDb();
        // Read back (oracle), then finish: exactly one port either way.
        if ((await portCount(ovs.vsctl, 'p1')) === 0)
          await vs.addPort('ovs0', { name: 'p1', type: 'internal' }, { wait: true });
        await vs.addPort('ovs0', { name: 'p1', type: 'internal' }, { mayExist: true });
        assert.equal(await portCount(ovs.vsctl, 'p1'), 1);
      },
      { client: FAST },
    ));

  it('F4: SIGSTOP longer than the probe interval: probe detects it, client recovers after SIGCONT', () =>
    withOvs(
      async (ovs, vs) => {
        const dead = new Promise<NetplumbError>((r) => vs.client.connection.once('disconnect', r));
        process.kill(ovs.dbPid(), 'SIGSTOP');
        const inFlight = vs.addPort('ovs0', { name: 'p1', type: 'internal' }).catch((e: unknown) => e);
        assert.ok(isCode(ErrorCode.UNAVAILABLE, /inactivity probe/)(await dead));
        assert.ok(isCode(ErrorCode.OUTCOME_UNKNOWN)(await inFlight), String(await inFlight));
        await sleep(400); // 2× the probe interval
        const synced = new Promise((r) => vs.client.once('synced', r));
        process.kill(ovs.dbPid(), 'SIGCONT');
        await synced;
        // The stopped server may still process the request it had buffered: reconcile.
        if ((await portCount(ovs.vsctl, 'p1')) === 0)
          await vs.addPort('ovs0', { name: 'p1', type: 'internal' }, { wait: true });
        await vs.addPort('ovs0', { name: 'p2', type: 'internal' }, { wait: true });
        assert.equal(await portCount(ovs.vsctl, 'p1'), 1);
        assert.deepEqual((await ovs.vsctl(['list-ports', 'ovs0'])).trim(), 'p1\np2');
      },
      { client: { ...FAST, probeIntervalMs: 200 } },
    ));

  it('B5: socket missing → UNAVAILABLE, refused (stale socket) → UNAVAILABLE; restarted server accepted', async () => {
    const ovs = await startOvs({ withVswitchd: false });
    try {
      await ovs.stopDb('SIGKILL'); // leaves db.sock behind with nobody listening
      await assert.rejects(
        Vswitch.connect({ remote: ovs.remote }),
        isCode(ErrorCode.UNAVAILABLE, /connection refused/),
      );
      await ovs.startDb();
      await ovs.stopDb(); // a clean exit removes db.sock
      await assert.rejects(
        Vswitch.connect({ remote: ovs.remote }),
        isCode(ErrorCode.UNAVAILABLE, /does not exist; is ovsdb-server running/),
      );
      await assert.rejects(
        Vswitch.connect({ remote: `unix:${join(ovs.dir, 'nope', 'db.sock')}` }),
        isCode(ErrorCode.UNAVAILABLE),
      );
    } finally {
      await ovs.stop();
    }
    assert.deepEqual(ovs.alivePids(), []);
  });

  it('B5: permission denied (socket in a 0700 dir, client as uid 65534) → PRIVILEGE', async () => {
    const ovs = await startOvs({ withVswitchd: false });
    try {
      chmodSync(ovs.dir, 0o700);
      const script = `import(${JSON.stringify(join(process.cwd(), 'dist/src/ovsdb/index.js'))}).then((m) => m.Vswitch.connect({ remote: ${JSON.stringify(ovs.remote)} }))
        .then(() => console.log('CONNECTED'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['-e', script],
          { uid: 65534, gid: 65534, cwd: '/', timeout: 20_000 },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        );
      });
      const res = JSON.parse(out.trim().split('\n').at(-1)!) as { code: string; message: string };
      assert.equal(res.code, ErrorCode.PRIVILEGE, res.message);
      assert.match(res.message, /permission denied/);
    } finally {
      await ovs.stop();
    }
  });
});
