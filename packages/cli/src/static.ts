/** What `fence --version` and `fence --help` print, bundled apart so they load nothing else. */
export { HELP } from './help.js';
export { VERSION } from './version.js';
