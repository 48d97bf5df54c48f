/**
 * The one place the agent hooks reach the command policy. It moves into its own plugin
 * (plugins/command) later: only this import changes then.
 */
export { findCommandDenial, errors as coreErrors, type CommandDenial } from '@fence/core';
