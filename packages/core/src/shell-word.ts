/** One word for `sh`: as it is when it needs no quoting, else single-quoted (for -d output and scripts). */
export const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
