#!/usr/bin/env node
// Install node_modules from the tarballs in .ci/npm-offline/ when the npm registry cannot be reached.
//
// Every tarball is checked against the sha512 integrity that package-lock.json records, so what lands
// in node_modules is byte for byte what `npm ci` would have fetched. Packages for other platforms
// (optional native binaries) are skipped exactly as npm skips them.
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

/** `@scope/name@1.2.3` → `scope-name-1.2.3.tgz` */
function tarballName(name, version) {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

const bins = [];
for (const [where, entry] of Object.entries(lock.packages)) {
  if (where === '' || !where.startsWith('node_modules/')) continue;
  const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const dest = path.join(root, where);
  if (entry.link) {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.rmSync(dest, { recursive: true, force: true });
    fs.symlinkSync(path.relative(path.dirname(dest), path.join(root, entry.resolved)), dest);
    continue;
  }
  if (!allows(entry.os, process.platform) || !allows(entry.cpu, process.arch)) continue;
  if (process.platform === 'linux' && !allows(entry.libc, libc)) continue;
  const file = path.join(store, tarballName(name, entry.version));
  if (!fs.existsSync(file))
    throw new Error(
      `offline install: ${name}@${entry.version} is not in ${store}; run npm ci with the registry reachable`,
    );
  const [algorithm, expected] = entry.integrity.split('-');
  const actual = createHash(algorithm).update(fs.readFileSync(file)).digest('base64');
  if (actual !== expected)
    throw new Error(`offline install: ${file} does not match the integrity in package-lock.json`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['-xzf', file, '-C', dest, '--strip-components=1', '--no-same-owner']);
  if (entry.bin && where === `node_modules/${name}`) bins.push([name, entry.bin]);
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
