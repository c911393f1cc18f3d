/**
 * scripts/front-door.js, what the install does with the native front door: probe it, and
 * put it in place of the Node.js launchers of an installed package, whose commands then
 * run it directly (and Node.js, from bin/node-cli.js beside it, when no daemon serves).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const FRONT = join(ROOT, 'build', 'Release', 'netplumb-front');
const script = require(join(ROOT, 'scripts', 'front-door.js')) as {
  COMMANDS: string[];
  probeFrontDoor(file: string): void;
  isInstalledPackage(root: string): boolean;
  installFrontDoor(root: string, exe: string): string;
};

test('the probe passes for the built front door and fails for anything else', () => {
  script.probeFrontDoor(FRONT);
  assert.throws(() => script.probeFrontDoor('/bin/true'), /answered status 0/);
  assert.throws(() => script.probeFrontDoor(join(ROOT, 'no-such-file')), /ENOENT/);
});

test('only a package under node_modules/ is installed; a working tree keeps its launchers', () => {
  assert.equal(script.isInstalledPackage('/usr/lib/node_modules/netplumb'), true);
  assert.equal(script.isInstalledPackage('/srv/app/node_modules/@scope/netplumb'), true);
  assert.equal(script.isInstalledPackage(ROOT), false);
});

test('installed, each command is the front door itself, and runs Node.js from beside it when no daemon serves', () => {
  const top = mkdtempSync(join(tmpdir(), 'np-front-install-'));
  try {
    const pkg = join(top, 'node_modules', 'netplumb');
    mkdirSync(join(pkg, 'bin'), { recursive: true });
    for (const f of ['node-cli.js', ...script.COMMANDS]) copyFileSync(join(ROOT, 'bin', f), join(pkg, 'bin', f));
    symlinkSync(join(ROOT, 'dist'), join(pkg, 'dist'));
    const exe = join(top, 'netplumb-front');
    copyFileSync(FRONT, exe);
    assert.equal(script.installFrontDoor(pkg, exe), 'hard link');
    for (const name of script.COMMANDS) {
      const st = statSync(join(pkg, 'bin', name));
      assert.equal(st.ino, statSync(exe).ino, `bin/${name} is the front door`);
      assert.equal(st.mode & 0o777, 0o755);
    }
    const out = execFileSync(join(pkg, 'bin', 'netplumb'), ['--version'], {
      env: { PATH: process.env.PATH, NETPLUMB_SOCKET: join(top, 'no-daemon.sock') },
    }).toString();
    assert.match(out, /^netplumb \d+\.\d+\.\d+\n$/);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});
