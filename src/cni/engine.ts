/**
 * The engine a CNI call runs on: the daemon's when it serves (the call relayed by the front
 * door runs inside it; a call acting alone asks it over its socket), else one in this
 * process. The configuration's `socket_file` is the OVSDB asked for: a daemon on another
 * hands the call back. A Linux bridge or macvlan network touches no OVSDB, and no CNI call
 * names a container, so any daemon serves those.
 */
import { openCommandEngine, type CommandIo } from '../cli/io.js';
import type { Engine } from '../engine/engine.js';
import type { NetConf } from './config.js';

export function openCniEngine(io: CommandIo, conf: NetConf): Promise<Engine> {
  return openCommandEngine(io, {
    plumberOptions: conf.ovsdb !== undefined ? { ovsDb: conf.ovsdb } : {},
    anyContainerEngine: true,
    ...(conf.target.mode !== 'ovs' ? { anyOvsdb: true } : {}),
  });
}
