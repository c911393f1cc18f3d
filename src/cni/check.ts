import type { CommandIo } from '../cli/io.js';
import type { CniCall } from './args.js';
import type { NetConf } from './config.js';
import { CniCode, CniError } from './errors.js';

export async function cniCheck(_io: CommandIo, _conf: NetConf, _call: CniCall): Promise<void> {
  throw new CniError(CniCode.UNSUPPORTED_FIELD, 'CHECK is not implemented yet');
}
