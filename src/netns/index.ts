export { Netns, openNetns, hostNetnsIdentity, type NetnsIdentity } from './handle.js';
export {
  parseNetnsSelector,
  selectorForPath,
  validateNetnsName,
  describeSelector,
  type NetnsSelector,
} from './selector.js';
