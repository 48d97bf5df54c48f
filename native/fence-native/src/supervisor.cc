// notifySupervisor(onEvent, onExec?): the seccomp user-notify supervisor of notify.c on a thread of
// its own, so a denied syscall is answered at once whatever Node's event loop is doing; each event
// reaches JavaScript through a thread-safe function, queued before the syscall is answered. An
// execve (runtimeExecPolicy "argv") waits on that thread for onExec's verdict, taken on Node's.
#include "supervisor.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sys/socket.h>
#include <unistd.h>

extern "C" {
#include "notify.h"
}
#endif

namespace {

#ifdef __linux__
constexpr int kEperm = EPERM;

struct State {
  notify_supervisor* sup = nullptr;
  int helperFd = -1;
  std::thread thread;
  Napi::ThreadSafeFunction tsfn;
  Napi::FunctionReference onExec;  // empty without one: every exec is refused
  bool closed = false;
  std::atomic<bool> closing{false};  // set before the thread is joined: a pending exec stops waiting
  int flushing = 0;  // pending flush markers: they keep Node alive until delivered
};

// An exec waiting for its verdict: a copy of the request (the supervisor's buffers are gone once
// it stops waiting) and where the verdict goes.
struct ExecCall {
  int pid, tid, nr, dirfd, flags;
  bool readable;
  double arch;
  std::string comm, path;
  std::vector<std::string> argv;
  std::promise<bool> verdict;
};

// An item on the thread-safe function's queue: an event, an exec, or a flush marker from JavaScript.
struct Item {
  notify_event event;
  Napi::FunctionReference* flushed;  // set for a marker
  State* state;
  ExecCall* exec = nullptr;          // set for an exec
};

// Calls onExec with the request; a truthy answer allows it. Anything else (no handler, an
// exception, Node shutting down) refuses it.
void DeliverExec(Napi::Env env, Item* item) {
  ExecCall* x = item->exec;
  bool allow = false;
  State* state = item->state;
  if (env != nullptr && !state->onExec.IsEmpty()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("pid", x->pid);
    o.Set("tid", x->tid);
    o.Set("comm", x->comm);
    o.Set("nr", x->nr);
    o.Set("arch", x->arch);
    o.Set("dirfd", x->dirfd);
    o.Set("flags", x->flags);
    o.Set("readable", x->readable);
    o.Set("path", x->path);
    Napi::Array argv = Napi::Array::New(env, x->argv.size());
    for (uint32_t i = 0; i < x->argv.size(); i++) argv.Set(i, x->argv[i]);
    o.Set("argv", argv);
    try {
      allow = state->onExec.Call({o}).ToBoolean().Value();
    } catch (const Napi::Error&) {
      allow = false;
    }
  }
  x->verdict.set_value(allow);
  delete x;
}

void Deliver(Napi::Env env, Napi::Function onEvent, Item* item) {
  if (item->exec != nullptr) {
    DeliverExec(env, item);
  } else if (item->flushed != nullptr) {
    State* state = item->state;
    if (--state->flushing == 0 && env != nullptr && !state->closed) state->tsfn.Unref(env);
    if (env != nullptr) item->flushed->Call({});
    delete item->flushed;
  } else if (env != nullptr) {
    const notify_event& e = item->event;
    Napi::Object o = Napi::Object::New(env);
    o.Set("time", e.time_ms);
    o.Set("pid", e.pid);
    o.Set("tid", e.tid);
    o.Set("comm", e.comm);
    o.Set("nr", e.nr);
    o.Set("arch", static_cast<double>(e.arch));
    Napi::Array args = Napi::Array::New(env, 6);
    for (uint32_t i = 0; i < 6; i++) args.Set(i, Napi::BigInt::New(env, static_cast<uint64_t>(e.args[i])));
    o.Set("args", args);
    onEvent.Call({o});
  }
  delete item;
}

void Emit(const notify_event* e, void* ctx) {
  auto* state = static_cast<State*>(ctx);
  // Never blocks: the queue is unbounded.
  state->tsfn.NonBlockingCall(new Item{*e, nullptr, state}, Deliver);
}

// On the supervisor's thread: hands the exec to Node and waits for the verdict; refused when the
// session closes meanwhile (Close joins this thread, and Node cannot answer during Close).
int Decide(const exec_request* r, void* ctx) {
  auto* state = static_cast<State*>(ctx);
  auto* x = new ExecCall{r->pid, r->tid, r->nr, r->dirfd, r->flags, r->readable != 0, static_cast<double>(r->arch), r->comm, r->path, {}, {}};
  const char* arg = r->args;
  for (size_t i = 0; i < r->argc; i++, arg += std::strlen(arg) + 1) x->argv.emplace_back(arg);
  std::future<bool> verdict = x->verdict.get_future();
  auto* item = new Item{{}, nullptr, state, x};
  if (state->tsfn.NonBlockingCall(item, Deliver) != napi_ok) {
    delete x;
    delete item;
    return 0;
  }
  while (verdict.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (state->closing.load()) return 0;
  }
  return verdict.get() ? 1 : 0;
}

void Close(State* state) {
  if (state->closed) return;
  state->closed = true;
  state->closing.store(true);
  notify_supervisor_stop(state->sup);
  state->thread.join();
  notify_supervisor_free(state->sup);
  (void)close(state->helperFd);
  // Queued events are still delivered before the function is finalized.
  state->tsfn.Release();
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction() || (info.Length() > 1 && !info[1].IsFunction() && !info[1].IsUndefined())) {
    throw Napi::TypeError::New(env, "notifySupervisor(onEvent: function, onExec?: function)");
  }
  int sv[2];
  // One end for the helpers (each sends its listener), one for the supervisor; datagrams keep
  // one listener per message.
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw Napi::Error::New(env, std::string("notifySupervisor: socketpair: ") + std::strerror(errno));
  // Shared by the handle's functions: they may outlive the supervisor (calls after close are no-ops).
  auto state = std::make_shared<State>();
  state->helperFd = sv[1];
  state->sup = notify_supervisor_new(sv[0], kEperm);
  if (state->sup == nullptr) {
    int err = errno;
    (void)close(sv[0]);
    (void)close(sv[1]);
    throw Napi::Error::New(env, std::string("notifySupervisor: ") + std::strerror(err));
  }
  state->tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "fence-notify", 0, 1);
  if (info.Length() > 1 && info[1].IsFunction()) state->onExec = Napi::Persistent(info[1].As<Napi::Function>());
  // The supervisor must not keep Node alive by itself; commands and sessions do.
  state->tsfn.Unref(env);
  State* raw = state.get();
  state->thread = std::thread([raw] { notify_supervisor_run(raw->sup, Emit, Decide, raw); });

  Napi::Object handle = Napi::Object::New(env);
  handle.Set("fd", state->helperFd);
  handle.Set("flush", Napi::Function::New(env, [state](const Napi::CallbackInfo& i) {
    if (i.Length() < 1 || !i[0].IsFunction()) throw Napi::TypeError::New(i.Env(), "flush(done: function)");
    auto* done = new Napi::FunctionReference(Napi::Persistent(i[0].As<Napi::Function>()));
    // Behind every event queued so far: `done` runs once they are all delivered.
    if (state->closed || state->tsfn.NonBlockingCall(new Item{{}, done, state.get()}, Deliver) != napi_ok) {
      done->Call({});
      delete done;
      return;
    }
    if (state->flushing++ == 0) state->tsfn.Ref(i.Env());
  }));
  handle.Set("close", Napi::Function::New(env, [state](const Napi::CallbackInfo&) { Close(state.get()); }));
  return handle;
}
#else
Napi::Value Start(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(), "notifySupervisor: seccomp is Linux-only");
}
#endif

}  // namespace

void RegisterSupervisor(Napi::Env env, Napi::Object exports) {
  exports.Set("notifySupervisor", Napi::Function::New(env, Start, "notifySupervisor"));
}
