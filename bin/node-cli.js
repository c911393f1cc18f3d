#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// The commands in Node.js: `node bin/node-cli.js PROGRAM ARGS…` runs PROGRAM (netplumb,
// pipework or netplumb-cni) in this process. The native front door execs this when no
// daemon serves a call; the launchers bin/netplumb, bin/pipework and bin/netplumb-cni (what
// an install replaces with the front door) run it too. NODE_EXTRA_CA_CERTS is dropped (by
// the shebang here, by the front door before it execs node): loading a CA bundle costs
// ~120 ms per start and the commands open no TLS connection (only unix sockets to
// ovsdb-server, the container engine and the daemon).
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json has no "type"), not an ES module
'use strict';

/** Each program's entry: the one-file bundles (scripts/bundle.js) start fastest. */
const ENTRIES = {
  netplumb: '../dist/bundle/netplumb.js',
  pipework: '../dist/bundle/pipework.js',
  'netplumb-cni': '../dist/bundle/netplumb-cni.js',
};

/** Run `program` with `argv` in this process; its exit code becomes the process's. */
function run(program, argv) {
  const entry = Object.hasOwn(ENTRIES, program) ? ENTRIES[program] : undefined;
  if (entry === undefined) {
    process.stderr.write(`node-cli.js: no program ${JSON.stringify(program)}; one of ${Object.keys(ENTRIES).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  require(entry).start(argv);
}

module.exports = { run };
if (require.main === module) run(process.argv[2], process.argv.slice(3));
