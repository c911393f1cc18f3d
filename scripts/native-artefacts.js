// The native artefacts that binding.gyp builds and the package ships prebuilt, in one list.
//
//   scripts/prebuild.js  (npm pack: prepack) builds them and copies each from build/Release/
//                        into prebuilds/<platform>-<arch>/, which package.json "files" ships;
//   scripts/install.js   (npm install) keeps the prebuilt ones when every one of them fits this
//                        machine, and builds all of them from source otherwise;
//   src/native.ts        finds an artefact in prebuilds/<platform>-<arch>/ first, then in
//                        build/Release/ (a source build).
//
// A new artefact — another target of binding.gyp, an executable as well as an addon — is one
// more entry here: its file name under build/Release/ and a probe that throws when the file
// cannot run on this machine. For an executable, for example:
//   { file: 'netplumb-door', probe: (file) => execFileSync(file, ['--version'], { stdio: 'ignore' }) }
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json has no "type"), not an ES module
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

/** The package's root directory (this file is scripts/native-artefacts.js). */
const ROOT = path.resolve(__dirname, '..');

/** @type {{ file: string, probe: (file: string) => void }[]} */
const ARTEFACTS = [
  {
    // The addon (N-API version 8: one build serves every Node.js from 20 on). Loading it is the probe.
    file: 'netplumb.node',
    probe: (file) => {
      require(file);
    },
  },
  {
    // The front door (native/front.c): the installed netplumb, pipework and netplumb-cni
    // (scripts/front-door.js puts it in bin/). Run under its own name, it answers with its usage.
    file: 'netplumb-front',
    probe: (file) => require('./front-door.js').probeFrontDoor(file),
  },
];

/** Where the prebuilt artefacts for this platform are shipped: prebuilds/linux-x64/. */
function prebuildDir(root = ROOT) {
  return path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
}

/** Where node-gyp puts what it builds from source. */
function buildDir(root = ROOT) {
  return path.join(root, 'build', 'Release');
}

/**
 * Build every artefact from source into build/Release/: `node-gyp rebuild`, the node-gyp that
 * npm puts on PATH for its scripts (needs python3, make and a C++ compiler). Returns the exit status.
 */
function buildFromSource(root = ROOT) {
  const r = spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(
      `netplumb: cannot run node-gyp (${r.error.message}); run this through npm: npm rebuild netplumb\n`,
    );
    return 1;
  }
  return r.status ?? 1;
}

module.exports = { ARTEFACTS, prebuildDir, buildDir, buildFromSource };
