#!/usr/bin/env node
// npm's install step for netplumb (package.json "install"): keep the native artefacts shipped
// prebuilt in prebuilds/<platform>-<arch>/ when every one of them fits this machine, so that no
// compiler is needed; otherwise build them from source with node-gyp (python3, make and a C++
// compiler). `npm install --build-from-source` builds from source even when the prebuilds fit.
// The artefacts and their probes are listed in scripts/native-artefacts.js.
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json has no "type"), not an ES module
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { ARTEFACTS, prebuildDir, buildFromSource } = require('./native-artefacts.js');
const { placeFrontDoor } = require('./front-door.js');

const dir = prebuildDir();
const where = `${process.platform}-${process.arch}`;

/** Why the prebuilt artefacts do not fit this machine, or undefined when they all do. */
function misfit() {
  for (const { file, probe } of ARTEFACTS) {
    const prebuilt = path.join(dir, file);
    if (!fs.existsSync(prebuilt)) return `no prebuilt ${file} for ${where}`;
    try {
      probe(prebuilt);
    } catch (e) {
      return `the prebuilt ${file} does not run here: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
    }
  }
  return undefined;
}

const forced = !['', 'false', undefined].includes(process.env.npm_config_build_from_source);
const reason = forced ? 'building from source as asked (--build-from-source)' : misfit();
if (reason === undefined) {
  process.stdout.write(`netplumb: using the prebuilt native artefacts for ${where}\n`);
} else {
  process.stdout.write(`netplumb: ${reason}; building from source with node-gyp\n`);
  const status = buildFromSource();
  if (status !== 0) {
    process.stderr.write(
      `netplumb: ${reason}, and building from source failed (above). Install python3, make and g++ ` +
        '(Debian/Ubuntu: apt-get install python3 make g++), then run: npm rebuild netplumb\n',
    );
    process.exit(status);
  }
}
// In an installed package, the commands in bin/ become the front door, which starts Node.js
// only when no daemon serves a call.
placeFrontDoor();
