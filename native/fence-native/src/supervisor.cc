// notifySupervisor(onEvent): the seccomp user-notify supervisor of notify.c on a thread of its own,
// so a denied syscall is answered at once whatever Node's event loop is doing; each event reaches
// JavaScript through a thread-safe function, queued before the syscall is answered.
#include "supervisor.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

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
  bool closed = false;
  int flushing = 0;  // pending flush markers: they keep Node alive until delivered
};

// An item on the thread-safe function's queue: an event, or a flush marker from JavaScript.
struct Item {
  notify_event event;
  Napi::FunctionReference* flushed;  // set for a marker
  State* state;
};

void Deliver(Napi::Env env, Napi::Function onEvent, Item* item) {
  if (item->flushed != nullptr) {
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

void Close(State* state) {
  if (state->closed) return;
  state->closed = true;
  notify_supervisor_stop(state->sup);
  state->thread.join();
  notify_supervisor_free(state->sup);
  (void)close(state->helperFd);
  // Queued events are still delivered before the function is finalized.
  state->tsfn.Release();
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "notifySupervisor(onEvent: function)");
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
  // The supervisor must not keep Node alive by itself; commands and sessions do.
  state->tsfn.Unref(env);
  State* raw = state.get();
  state->thread = std::thread([raw] { notify_supervisor_run(raw->sup, Emit, raw); });

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
