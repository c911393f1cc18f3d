/** The demo's scenarios, by the name `--scenario` takes. */
import type { Scenario, ScenarioName } from './scenario.js';
import { ovn } from './scenario-ovn.js';
import { seed } from './scenario-seed.js';
import { trunk } from './scenario-trunk.js';

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = { seed, trunk, ovn };
