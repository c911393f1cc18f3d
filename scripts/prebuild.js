#!/usr/bin/env node
// npm pack and npm publish (package.json "prepack"): build the native artefacts from source and
// copy each into prebuilds/<platform>-<arch>/, which the package ships, so that installing it on
// a machine of this kind needs no compiler (scripts/install.js). Each copy is probed before it
// is shipped. "postpack" removes prebuilds/ again: in a working tree, the addon in use is the one
// that `npm ci` or `node-gyp rebuild` left in build/Release/.
// The artefacts are listed in scripts/native-artefacts.js.
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json has no "type"), not an ES module
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { ARTEFACTS, prebuildDir, buildDir, buildFromSource } = require('./native-artefacts.js');

const status = buildFromSource();
if (status !== 0) process.exit(status);
const dir = prebuildDir();
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
for (const { file, probe } of ARTEFACTS) {
  const target = path.join(dir, file);
  fs.copyFileSync(path.join(buildDir(), file), target);
  probe(target);
  process.stdout.write(`prebuilt ${path.relative(process.cwd(), target)} (${fs.statSync(target).size} bytes)\n`);
}
