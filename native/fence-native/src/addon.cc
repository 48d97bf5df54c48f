// fence_native.node: Landlock and seccomp probes for `detect`, execve for the CLI's last step,
// sendFd for the proxies' tunnel handoff to the in-sandbox bridge, peerCredentials for the proxy
// service's check of who connects, and raw mode for the terminal.
// The logic lives in the C files shared with fence-launch; this file only converts values.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <sys/file.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "supervisor.h"
#include "tracer.h"

extern "C" {
#include "exec.h"
#include "rawmode.h"
#ifdef __linux__
#include "fdpass.h"
#include "audit.h"
#include "landlock.h"
#include "seccomp.h"
#include "unixsock.h"
#include <linux/seccomp.h>
#endif
}

namespace {

Napi::Value LandlockAbiVersion(const Napi::CallbackInfo& info) {
#ifdef __linux__
  return Napi::Number::New(info.Env(), static_cast<double>(landlock_abi()));
#else
  return Napi::Number::New(info.Env(), -ENOSYS);
#endif
}

Napi::Value LandlockErrata(const Napi::CallbackInfo& info) {
#ifdef __linux__
  return Napi::Number::New(info.Env(), static_cast<double>(landlock_errata()));
#else
  return Napi::Number::New(info.Env(), -ENOSYS);
#endif
}

Napi::Value SeccompActionAvailable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "seccompActionAvailable(name: string)");
  std::string name = info[0].As<Napi::String>();
#ifdef __linux__
  static const struct { const char* name; uint32_t action; } kActions[] = {
      {"kill_process", SECCOMP_RET_KILL_PROCESS}, {"kill_thread", SECCOMP_RET_KILL_THREAD},
      {"trap", SECCOMP_RET_TRAP},                 {"errno", SECCOMP_RET_ERRNO},
      {"user_notif", SECCOMP_RET_USER_NOTIF},     {"trace", SECCOMP_RET_TRACE},
      {"log", SECCOMP_RET_LOG},                   {"allow", SECCOMP_RET_ALLOW},
  };
  for (const auto& a : kActions)
    if (name == a.name) return Napi::Boolean::New(env, seccomp_action_available(a.action) == 1);
#else
  static const char* kActions[] = {"kill_process", "kill_thread", "trap", "errno", "user_notif", "trace", "log", "allow"};
  for (const char* a : kActions)
    if (name == a) return Napi::Boolean::New(env, false);
#endif
  throw Napi::TypeError::New(env, "seccompActionAvailable: unknown action '" + name + "'");
}

Napi::Value SeccompFlagsAvailable(const Napi::CallbackInfo& info) {
  Napi::Object flags = Napi::Object::New(info.Env());
#ifdef __linux__
  flags.Set("log", seccomp_flag_available(SECCOMP_FILTER_FLAG_LOG) == 1);
  flags.Set("newListener", seccomp_flag_available(SECCOMP_FILTER_FLAG_NEW_LISTENER) == 1);
  flags.Set("tsync", seccomp_flag_available(SECCOMP_FILTER_FLAG_TSYNC) == 1);
#else
  flags.Set("log", false);
  flags.Set("newListener", false);
  flags.Set("tsync", false);
#endif
  return flags;
}

std::string CString(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(env, std::string("execve: ") + what + " must be a string");
  std::string s = v.As<Napi::String>();
  if (s.find('\0') != std::string::npos)
    throw Napi::TypeError::New(env, std::string("execve: ") + what + " contains a NUL byte");
  return s;
}

std::vector<std::string> CStrings(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string("execve: ") + what + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(CString(env, a.Get(i), what));
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Napi::Value ThrowErrno(Napi::Env env, int err, const std::string& path) {
  Napi::Error e = Napi::Error::New(env, "execve " + path + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, "execve"));
  e.Set("path", Napi::String::New(env, path));
  throw e;
}

// Replaces the Node process. Returns only by throwing.
Napi::Value Execve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) throw Napi::TypeError::New(env, "execve(path, argv, envp)");
  std::string path = CString(env, info[0], "path");
  std::vector<std::string> argv = CStrings(env, info[1], "argv"), envp = CStrings(env, info[2], "envp");
  std::vector<char*> argvp = Pointers(argv), envpp = Pointers(envp);

  exec_saved saved;
  int rc = exec_prepare(&saved);
  if (rc != 0) {
    exec_restore(&saved);
    return ThrowErrno(env, -rc, path);
  }
  // Replaces the process image: every Node thread ends here on success.
  execve(path.c_str(), argvp.data(), envpp.data());
  int err = errno;
  exec_restore(&saved);
  return ThrowErrno(env, err, path);
}

// One sendmsg with `data` and the descriptor `passFd` on the Unix socket `unixFd`.
Napi::Value SendFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "sendFd(unixFd: number, passFd: number, data: Uint8Array)");
  int sock = info[0].As<Napi::Number>().Int32Value(), fd = info[1].As<Napi::Number>().Int32Value();
  Napi::Uint8Array data = info[2].As<Napi::Uint8Array>();
#ifdef __linux__
  int rc = fdpass_send(sock, fd, data.Data(), data.ByteLength());
#else
  (void)sock, (void)fd, (void)data;
  int rc = -ENOSYS;
#endif
  if (rc == 0) return env.Undefined();
  static const struct { int err; const char* code; } kCodes[] = {
      {EAGAIN, "EAGAIN"}, {EBADF, "EBADF"}, {EBUSY, "EBUSY"}, {ECONNRESET, "ECONNRESET"}, {EINVAL, "EINVAL"},
      {ENOSYS, "ENOSYS"}, {ENOTSOCK, "ENOTSOCK"}, {EPIPE, "EPIPE"}, {ENOBUFS, "ENOBUFS"}, {ENOMEM, "ENOMEM"},
  };
  std::string code = "E" + std::to_string(-rc);
  for (const auto& c : kCodes)
    if (c.err == -rc) code = c.code;
  Napi::Error e = Napi::Error::New(env, std::string("sendFd: ") + std::strerror(-rc));
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -rc));
  e.Set("syscall", Napi::String::New(env, "sendmsg"));
  throw e;
}

// A listening Unix socket at `path` (close-on-exec); its descriptor, to pass to the in-sandbox relay.
Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "listenUnix(path: string, backlog: number)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
#ifdef __linux__
  int rc = unix_listen(path.c_str(), info[1].As<Napi::Number>().Int32Value());
#else
  int rc = -ENOSYS;
#endif
  if (rc >= 0) return Napi::Number::New(env, rc);
  Napi::Error e = Napi::Error::New(env, std::string("listenUnix: ") + path + ": " + std::strerror(-rc));
  e.Set("code", Napi::String::New(env, -rc == EADDRINUSE ? "EADDRINUSE" : "E" + std::to_string(-rc)));
  e.Set("errno", Napi::Number::New(env, -rc));
  e.Set("syscall", Napi::String::New(env, "bind"));
  throw e;
}

// Who connected the Unix socket `fd`: { pid, uid, pidfd } (pidfd -1 before Linux 6.5; the caller closes it).
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "peerCredentials(fd: number)");
#ifdef __linux__
  struct unix_peer peer;
  int rc = unix_peer(info[0].As<Napi::Number>().Int32Value(), &peer);
#else
  int rc = -ENOSYS;
#endif
  if (rc != 0) {
    Napi::Error e = Napi::Error::New(env, std::string("peerCredentials: ") + std::strerror(-rc));
    e.Set("errno", Napi::Number::New(env, -rc));
    throw e;
  }
#ifdef __linux__
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", peer.pid);
  o.Set("uid", peer.uid);
  o.Set("pidfd", peer.pidfd);
  return o;
#else
  return env.Undefined();
#endif
}

// flock(fd, LOCK_EX | LOCK_NB): true when this open file now holds the lock, false when another does.
// The lock goes with the open file (a child that inherits the descriptor holds it until it exits).
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "tryLock(fd: number)");
  if (flock(info[0].As<Napi::Number>().Int32Value(), LOCK_EX | LOCK_NB) == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  Napi::Error e = Napi::Error::New(env, std::string("flock: ") + std::strerror(errno));
  e.Set("errno", Napi::Number::New(env, errno));
  throw e;
}

Napi::Value ThrowTerminal(Napi::Env env, const char* call, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(call) + ": " + std::strerror(err));
  e.Set("code", Napi::String::New(env, err == ENOTTY ? "ENOTTY" : err == EBADF ? "EBADF" : "E" + std::to_string(err)));
  e.Set("errno", Napi::Number::New(env, err));
  throw e;
}

// Sets raw mode on the terminal `fd`; returns its previous mode (struct termios) for ttyRestore.
Napi::Value TtyMakeRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "ttyMakeRaw(fd: number)");
  struct termios saved;
  int rc = term_make_raw(info[0].As<Napi::Number>().Int32Value(), &saved);
  if (rc != 0) return ThrowTerminal(env, "ttyMakeRaw", -rc);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, sizeof saved);
  std::memcpy(out.Data(), &saved, sizeof saved);
  return out;
}

Napi::Value TtyRestore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      info[1].As<Napi::Uint8Array>().ByteLength() != sizeof(struct termios))
    throw Napi::TypeError::New(env, "ttyRestore(fd: number, saved: Uint8Array from ttyMakeRaw)");
  struct termios saved;
  std::memcpy(&saved, info[1].As<Napi::Uint8Array>().Data(), sizeof saved);
  int rc = term_restore(info[0].As<Napi::Number>().Int32Value(), &saved);
  if (rc != 0) return ThrowTerminal(env, "ttyRestore", -rc);
  return env.Undefined();
}

// A socket receiving every audit record from now on (the caller reads and closes it).
Napi::Value AuditOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#ifdef __linux__
  int fd = audit_open_readlog();
#else
  int fd = -ENOSYS;
#endif
  if (fd >= 0) return Napi::Number::New(env, fd);
  Napi::Error e = Napi::Error::New(env, std::string("auditOpen: the audit netlink socket: ") + std::strerror(-fd));
  e.Set("errno", Napi::Number::New(env, -fd));
  throw e;
}

// The kernel's audit status: { enabled, pid, backlog, lost }, or a number (errno) when refused.
Napi::Value AuditState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#ifdef __linux__
  struct audit_state s;
  int rc = audit_get_state(&s);
  if (rc != 0) return Napi::Number::New(env, -rc);
  Napi::Object o = Napi::Object::New(env);
  o.Set("enabled", s.enabled);
  o.Set("pid", s.pid);
  o.Set("backlog", s.backlog);
  o.Set("lost", s.lost);
  return o;
#else
  return Napi::Number::New(env, ENOSYS);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("landlockAbiVersion", Napi::Function::New(env, LandlockAbiVersion, "landlockAbiVersion"));
  exports.Set("landlockErrata", Napi::Function::New(env, LandlockErrata, "landlockErrata"));
  exports.Set("seccompActionAvailable", Napi::Function::New(env, SeccompActionAvailable, "seccompActionAvailable"));
  exports.Set("seccompFlagsAvailable", Napi::Function::New(env, SeccompFlagsAvailable, "seccompFlagsAvailable"));
  exports.Set("execve", Napi::Function::New(env, Execve, "execve"));
  exports.Set("sendFd", Napi::Function::New(env, SendFd, "sendFd"));
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix, "listenUnix"));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  exports.Set("tryLock", Napi::Function::New(env, TryLock, "tryLock"));
  exports.Set("ttyMakeRaw", Napi::Function::New(env, TtyMakeRaw, "ttyMakeRaw"));
  exports.Set("ttyRestore", Napi::Function::New(env, TtyRestore, "ttyRestore"));
  exports.Set("auditOpen", Napi::Function::New(env, AuditOpen, "auditOpen"));
  exports.Set("auditState", Napi::Function::New(env, AuditState, "auditState"));
  RegisterSupervisor(env, exports);
  RegisterTracer(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(fence_native, Init)
