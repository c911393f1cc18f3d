#!/usr/bin/env node
// The offline store, .ci/npm-offline/: the tarball of every package that package-lock.json installs
// on CI's machines (linux-x64), kept for when the npm registry cannot be reached.
//
//   node .ci/offline-install.js          install node_modules from the store (what `npm ci` would
//                                        have fetched, byte for byte: every tarball is checked
//                                        against the sha512 integrity that package-lock.json records)
//   node .ci/offline-install.js --check  check that the store holds exactly what package-lock.json
//                                        needs: every tarball present and intact, none left over
//   require('./offline-install.js')      packages() and mismatch(), for the test that installs the
//                                        packed package with the registry out of reach
//
// Packages for other platforms (optional native binaries) are skipped exactly as npm skips them.
// A tarball is added to the store with `npm pack NAME@VERSION --pack-destination .ci/npm-offline`.
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json has no "type"), not an ES module
'use strict';
const { createHash } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const store = path.join(__dirname, 'npm-offline');
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));

/** @param {string[]|undefined} list @param {string} value */
function allows(list, value) {
  if (!list) return true;
  const denied = list.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  const allowed = list.filter((v) => !v.startsWith('!'));
  return !denied.includes(value) && (allowed.length === 0 || allowed.includes(value));
}

/** This machine's C library, as npm judges a package's "libc" field. */
const libc = process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';

/** `@scope/name@1.2.3` → `scope-name-1.2.3.tgz` (the name `npm pack` gives it) */
function tarballName(name, version) {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/**
 * The lock file's packages under node_modules/ that npm installs on this platform, each with its
 * place (`where`), name, lock entry and tarball in the store (`file`).
 */
function packages() {
  const out = [];
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (where === '' || !where.startsWith('node_modules/')) continue;
    if (!allows(entry.os, process.platform) || !allows(entry.cpu, process.arch)) continue;
    if (process.platform === 'linux' && !allows(entry.libc, libc)) continue;
    const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
    out.push({ where, name, entry, file: path.join(store, tarballName(name, entry.version)) });
  }
  return out;
}

/** Why the tarball does not match the lock file's integrity, or undefined when it does. */
function mismatch({ name, entry, file }) {
  if (entry.link) return `${name} is a link to ${entry.resolved}: every package comes from the registry`;
  if (!fs.existsSync(file))
    return `${name}@${entry.version} is not in ${store}: npm pack ${name}@${entry.version} --pack-destination ${store}`;
  const [algorithm, expected] = entry.integrity.split('-');
  const actual = createHash(algorithm).update(fs.readFileSync(file)).digest('base64');
  if (actual !== expected) return `${file} does not match the integrity in package-lock.json`;
  return undefined;
}

function check() {
  const all = packages();
  const problems = all.map(mismatch).filter((p) => p !== undefined);
  const needed = new Set(all.map((p) => path.basename(p.file)));
  for (const file of fs.readdirSync(store))
    if (!needed.has(file)) problems.push(`${path.join(store, file)} is not needed by package-lock.json: remove it`);
  if (problems.length > 0) {
    process.stderr.write(`offline store does not match package-lock.json:\n  ${problems.join('\n  ')}\n`);
    process.exit(1);
  }
  console.log(`offline store: the ${all.length} tarballs package-lock.json installs here, intact, nothing else`);
}

function install() {
  const bins = [];
  for (const p of packages()) {
    const problem = mismatch(p);
    if (problem) throw new Error(`offline install: ${problem}`);
    const dest = path.join(root, p.where);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', p.file, '-C', dest, '--strip-components=1', '--no-same-owner']);
    if (p.entry.bin && p.where === `node_modules/${p.name}`) bins.push([p.name, p.entry.bin]);
  }
  const binDir = path.join(root, 'node_modules', '.bin');
  fs.mkdirSync(binDir, { recursive: true });
  for (const [name, bin] of bins) {
    const table = typeof bin === 'string' ? { [name.split('/').pop()]: bin } : bin;
    for (const [command, target] of Object.entries(table)) {
      const link = path.join(binDir, command);
      fs.rmSync(link, { force: true });
      fs.symlinkSync(path.join('..', name, target), link);
      fs.chmodSync(path.join(root, 'node_modules', name, target), 0o755);
    }
  }
  console.log(
    `offline install: ${Object.keys(lock.packages).length - 1} lockfile entries considered, node_modules ready`,
  );
}

if (require.main === module) {
  if (process.argv[2] === '--check') check();
  else install();
}
module.exports = { store, packages, mismatch };
