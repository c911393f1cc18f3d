/**
 * `netplumb-cni`, the CNI plugin (CNI spec 1.0 and 1.1): CNI_COMMAND and the rest from the
 * environment, the network configuration on stdin, the result or the error on stdout. Runs
 * in the daemon when the front door relays it there, else in its own process.
 *
 *   CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=/run/netns/c1 CNI_IFNAME=eth0 \
 *     CNI_PATH=/usr/lib/cni netplumb-cni < net.conf
 */
import { RunInCaller, type CommandIo, type CommandMain } from '../cli/io.js';
import { cniAdd } from './add.js';
import { cniCall, cniCommand } from './args.js';
import { cniCheck } from './check.js';
import { parseNetConf, versionOfRaw } from './config.js';
import { cniDel } from './del.js';
import { cniErrorOf, errorJson } from './errors.js';
import { cniGc } from './gc.js';
import { cniStatus } from './status.js';
import { LATEST_VERSION, versionJson } from './version.js';

/** What a failed call exits with (the error itself is on stdout). */
const FAILED = 1;

export const cniMain: CommandMain = async (io) => {
  let version: string = LATEST_VERSION;
  try {
    const command = cniCommand(io.env);
    if (command === 'VERSION') {
      io.stdout(versionJson());
      return 0;
    }
    const raw = await io.readStdin();
    version = versionOfRaw(raw);
    const conf = parseNetConf(raw);
    await run(io, command, conf);
    return 0;
  } catch (e) {
    // Handed back before anything was done or written: the caller runs the plugin itself.
    if (e instanceof RunInCaller) throw e;
    const err = cniErrorOf(e);
    io.stdout(errorJson(version, err));
    io.stderr(`netplumb-cni: ${err.message}\n`);
    return FAILED;
  }
};

async function run(
  io: CommandIo,
  command: Exclude<ReturnType<typeof cniCommand>, 'VERSION'>,
  conf: ReturnType<typeof parseNetConf>,
): Promise<void> {
  switch (command) {
    case 'ADD':
      io.stdout(`${JSON.stringify(await cniAdd(io, conf, cniCall('ADD', io.env)))}\n`);
      return;
    case 'DEL':
      return cniDel(io, conf, cniCall('DEL', io.env));
    case 'CHECK':
      return cniCheck(io, conf, cniCall('CHECK', io.env));
    case 'GC':
      return cniGc(io, conf);
    case 'STATUS':
      return cniStatus(io, conf);
  }
}
