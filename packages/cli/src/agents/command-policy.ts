/** The one place the agent hooks reach the command policy (@fence/plugin-command). */
export { commandDeniedError, findCommandDenial, ruleProblems, type CommandDenial } from '@fence/plugin-command';
