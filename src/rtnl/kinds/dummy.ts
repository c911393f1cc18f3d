/** dummy: a link that drops everything (`ip link add name d0 type dummy`). It has no kind data. */
import { linkKind } from '../link-kind.js';

export interface DummyOptions {
  kind: 'dummy';
}
export type DummyInfo = Record<string, never>;

export const dummy = linkKind<DummyOptions, DummyInfo>({
  kind: 'dummy',
  validate: (o) => o,
  decodeData: () => ({}),
});
