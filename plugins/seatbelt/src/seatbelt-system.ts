/**
 * What a command-line program needs of macOS besides files and the network, as SBPL rules. Pure
 * data: each allowance is named rather than granted by class, so a program cannot read the
 * machine's configuration, talk to arbitrary system daemons or share memory with processes
 * outside the sandbox.
 */

/** sysctl names read by libc, language runtimes (CPU count, page size, OS version) and `ps`. */
const SYSCTL_NAMES = [
  'hw.activecpu', 'hw.byteorder', 'hw.cachelinesize', 'hw.cpufamily', 'hw.cpufrequency', 'hw.cputype', 'hw.l1dcachesize',
  'hw.l2cachesize', 'hw.logicalcpu', 'hw.logicalcpu_max', 'hw.machine', 'hw.memsize', 'hw.model', 'hw.ncpu', 'hw.nperflevels',
  'hw.pagesize', 'hw.physicalcpu', 'hw.physicalcpu_max', 'hw.tbfrequency', 'hw.vectorunit',
  'kern.argmax', 'kern.hostname', 'kern.maxfiles', 'kern.maxfilesperproc', 'kern.maxproc', 'kern.ngroups', 'kern.osproductversion',
  'kern.osrelease', 'kern.ostype', 'kern.osvariant_status', 'kern.osversion', 'kern.secure_kernel', 'kern.usrstack64', 'kern.version',
  'machdep.cpu.brand_string', 'machdep.ptrauth_enabled', 'sysctl.proc_cputype', 'vm.loadavg',
];
/**
 * Families: CPU features, performance levels, and the process table by pid or group (`ps`,
 * process libraries). The table shows other processes' names and ids; their arguments and
 * environment (`kern.procargs2`) stay denied.
 */
const SYSCTL_PREFIXES = ['hw.optional.', 'hw.perflevel', 'kern.proc.pid.', 'kern.proc.pgrp.', 'machdep.cpu.'];

/**
 * Mach services every program may reach: logging, name and user lookups, the per-user temp dir,
 * launch services, fonts, time zone, power assertions. Not `diagnosticd` or `analyticsd`
 * (diagnostics leave the machine), nor the TLS services below.
 */
const MACH_SERVICES = [
  'com.apple.system.logger',
  'com.apple.system.notification_center',
  'com.apple.system.opendirectoryd.libinfo',
  'com.apple.system.opendirectoryd.membership',
  'com.apple.logd',
  'com.apple.bsd.dirhelper',
  'com.apple.coreservices.launchservicesd',
  'com.apple.lsd.mapdb',
  'com.apple.FontObjectsServer',
  'com.apple.fonts',
  'com.apple.timezoneupdates.tzd',
  'com.apple.PowerManagement.control',
];

/**
 * Certificate trust for TLS clients that use the system (Go, curl, Security.framework). trustd
 * fetches OCSP, CRLs and missing intermediates from the network itself, outside the proxies, at
 * URLs the certificate names: reachable only when the policy allows some domain, when TLS is
 * expected (docs/security.md).
 */
const TLS_MACH_SERVICES = ['com.apple.trustd.agent', 'com.apple.SecurityServer', 'com.apple.securityd.xpc'];

const lookups = (names: readonly string[]): string[] => ['(allow mach-lookup', ...names.map((s) => `  (global-name "${s}")`), ')'];

/** The system allowances of the profile; TLS trust only when `tls` (some domain is allowed). */
export function systemRules(tls: boolean): string[] {
  return [
    '; system: named sysctls, Mach services and shared memory only',
    '(allow sysctl-read',
    ...SYSCTL_NAMES.map((n) => `  (sysctl-name "${n}")`),
    ...SYSCTL_PREFIXES.map((n) => `  (sysctl-name-prefix "${n}")`),
    ')',
    // host_processor_info and host_statistics (CPU count and load in libuv, Go, Python).
    '(allow mach-host*)',
    '(allow user-preference-read)',
    '(allow iokit-get-properties)',
    // Named semaphores carry no data (Python multiprocessing's SemLock).
    '(allow ipc-posix-sem)',
    // Read-only: the notification centre's and preferences' shared pages, published by the system.
    '(allow ipc-posix-shm-read-data (ipc-posix-name "apple.shm.notification_center") (ipc-posix-name-regex #"^apple\\.cfprefs\\."))',
    // Segments the command's own processes create: multiprocessing.shared_memory (psm_), libomp.
    '(allow ipc-posix-shm-read-data ipc-posix-shm-write-create ipc-posix-shm-write-data ipc-posix-shm-write-unlink',
    '  (ipc-posix-name-regex #"^/?(psm_|__KMP_REGISTERED_LIB_)"))',
    ...lookups(MACH_SERVICES),
    ...(tls ? lookups(TLS_MACH_SERVICES) : []),
  ];
}
