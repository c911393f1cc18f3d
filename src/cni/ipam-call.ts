/** The IPAM call of a CNI call: its plugin, CNI_PATH, the caller's environment and configuration, and whom it runs as. */
import type { CommandIo } from '../cli/io.js';
import { cniPath } from './args.js';
import type { NetConf } from './config.js';
import type { IpamCall } from './ipam.js';

/** The configuration's IPAM call, or undefined when it delegates no addressing. */
export function ipamCallOf(io: CommandIo, conf: NetConf): IpamCall | undefined {
  if (conf.ipamType === undefined) return undefined;
  return {
    type: conf.ipamType,
    path: cniPath(io.env),
    env: io.env,
    config: conf.raw,
    ...(io.daemon !== undefined ? { as: io.daemon.caller } : {}),
  };
}
