// The native front door in an installed package. native/front.c builds into one executable,
// netplumb-front, that serves `netplumb`, `pipework` and `netplumb-cni` by the name it is run
// by. The package ships the Node.js launchers as bin/netplumb, bin/pipework and
// bin/netplumb-cni (what package.json "bin" names, what npm links); once the executable is
// known to run here, the install puts it in their place (a hard link, or a copy), so that
// running an installed command starts no shell and no Node.js: the front door hands the
// call to the daemon, and execs bin/node-cli.js itself only when no daemon serves it.
// A working tree (npm ci, npm run build) keeps the launchers: its bin/ is under version
// control, and build/Release/netplumb-front can be linked by those names to try it.
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json has no "type"), not an ES module
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** The executable's file name under build/Release/ and prebuilds/<platform>-<arch>/. */
const FRONT_DOOR = 'netplumb-front';
/** The commands it serves: each one's bin/ file. */
const COMMANDS = ['netplumb', 'pipework', 'netplumb-cni'];

/**
 * Throws unless `file` runs on this machine: run under its own name it answers with its
 * usage (status 2) and nothing else, which needs the dynamic linker and libc to accept it.
 */
function probeFrontDoor(file) {
  const r = spawnSync(file, [], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw r.error;
  if (r.status !== 2 || !r.stderr.includes('run me as netplumb, pipework or netplumb-cni'))
    throw new Error(`${file} answered status ${r.status ?? r.signal}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
}

/** Is `root` a package installed by npm (under node_modules/), not a working tree? */
function isInstalledPackage(root) {
  const parent = path.dirname(root);
  return path.basename(parent) === 'node_modules' || path.basename(path.dirname(parent)) === 'node_modules';
}

/**
 * Put the executable `exe` (probed) in place of each command's launcher in `root`/bin/: a
 * hard link when it can be made, else a copy; each replaced in one rename, so a command is
 * never missing. Returns how it was put there.
 */
function installFrontDoor(root, exe) {
  let how = 'hard link';
  for (const name of COMMANDS) {
    const target = path.join(root, 'bin', name);
    const tmp = `${target}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    try {
      fs.linkSync(exe, tmp);
    } catch {
      fs.copyFileSync(exe, tmp);
      how = 'copy';
    }
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, target);
  }
  return how;
}

/**
 * The install step, after the native build: in an installed package, the first of the
 * prebuilt and the built executable that runs here goes in place of the launchers, and it
 * says so. When neither runs, the launchers stay: slower, not broken.
 */
function placeFrontDoor(root = path.resolve(__dirname, '..')) {
  if (!isInstalledPackage(root)) return;
  const candidates = [
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, FRONT_DOOR),
    path.join(root, 'build', 'Release', FRONT_DOOR),
  ].filter((f) => fs.existsSync(f));
  const failures = [];
  for (const exe of candidates) {
    try {
      probeFrontDoor(exe);
    } catch (e) {
      failures.push(`${path.relative(root, exe)}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const how = installFrontDoor(root, exe);
    process.stdout.write(
      `netplumb: ${COMMANDS.join(', ')} run the native front door (${path.relative(root, exe)}, ${how})\n`,
    );
    return;
  }
  process.stdout.write(
    `netplumb: the native front door does not run here (${failures.join('; ') || 'not built'}); ` +
      'the commands start Node.js on every call\n',
  );
}

module.exports = { FRONT_DOOR, COMMANDS, probeFrontDoor, isInstalledPackage, installFrontDoor, placeFrontDoor };

if (require.main === module) placeFrontDoor();
