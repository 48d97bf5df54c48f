/**
 * Every attack `fence check` runs, in order: one or more per layer and per policy section of
 * SPEC §1. The definitions are data (see attack.ts); the relay attacks break what they swap, so
 * they come last.
 */
import type { Attack } from './attack.js';
import { commandAttacks } from './attacks-command.js';
import { filesystemAttacks } from './attacks-filesystem.js';
import { kernelAttacks } from './attacks-kernel.js';
import { networkAttacks } from './attacks-network.js';
import { secretsAttacks } from './attacks-secrets.js';

export const ATTACKS: readonly Attack[] = [...filesystemAttacks, ...secretsAttacks, ...commandAttacks, ...kernelAttacks, ...networkAttacks];
