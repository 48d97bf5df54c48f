/** Kept in step with package.json by the release tooling. */
export const VERSION = '0.1.0';
