/**
 * The engine a CNI call runs on: the daemon's when the front door relayed the call there,
 * else one in this process (the daemon handed the call back, or there is none). The configuration's `socket_file` is the OVSDB asked for: a daemon on another
 * hands the call back. A Linux bridge or macvlan network touches no OVSDB, and no CNI call
 * names a container, so any daemon serves those.
 */
import { openCommandEngine, type CommandIo } from '../cli/io.js';
import type { Engine } from '../engine/engine.js';
import type { NetConf } from './config.js';

export function openCniEngine(io: CommandIo, conf: NetConf): Promise<Engine> {
  return openCommandEngine(io, {
    // In a process of its own, the plugin was handed back by the daemon (or found none): it
    // acts alone, not through the daemon's API (which could not see the caller's namespace).
    ...(io.daemon === undefined ? { daemon: false } : {}),
    plumberOptions: conf.ovsdb !== undefined ? { ovsDb: conf.ovsdb } : {},
    anyContainerEngine: true,
    ...(conf.target.mode !== 'ovs' ? { anyOvsdb: true } : {}),
  });
}
