/**
 * What netplumb reads of the OVN_Southbound database: the chassis that exist (ovn-sbctl
 * list Chassis). Read-only, from the monitor cache: a logical port of a chassis that is no
 * longer there is left by a host that is gone.
 */
import type { RowDecoders } from './cache.js';
import { OvsdbClient } from './client.js';
import type { ConnectionOptions } from './connection.js';
import type { ColumnRequirements } from './schema.js';

export interface ChassisRow {
  uuid: string;
  name: string;
}

export interface SbTables extends Record<string, unknown> {
  Chassis: ChassisRow;
}

const REQUIRED: ColumnRequirements = { Chassis: ['name'] };
const DECODERS: RowDecoders<SbTables> = {
  Chassis: (uuid, r) => ({ uuid, name: typeof r.name === 'string' ? r.name : '' }),
};

export class Southbound {
  private constructor(readonly client: OvsdbClient<SbTables>) {}

  static async connect(opts: ConnectionOptions & { remote: string }): Promise<Southbound> {
    return new Southbound(
      await OvsdbClient.connect<SbTables>({
        ...opts,
        database: 'OVN_Southbound',
        required: REQUIRED,
        monitor: { columns: { Chassis: ['name'] }, decoders: DECODERS },
      }),
    );
  }

  /** Equivalent to: ovn-sbctl --bare --columns=name list Chassis */
  async chassisNames(): Promise<Set<string>> {
    await this.client.synced();
    return new Set(this.client.cache.rows('Chassis').map((c) => c.name));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
