// ebpfMonitor(dev, ino, onEvent): the eBPF monitor of bpf-monitor.c for one PID namespace, its ring
// buffer drained on a thread of its own; each event reaches JavaScript through a thread-safe
// function. stop(done) detaches only after the last record is drained, then calls done(lost)
// behind every event already queued.
#include "tracer.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#ifdef __linux__
extern "C" {
#include "bpf-monitor.h"
#include "notify.h"
}
#endif

namespace {

#ifdef __linux__
struct Tracer {
  bpf_monitor* mon = nullptr;
  std::thread thread;
  Napi::ThreadSafeFunction tsfn;
  bool stopped = false;
};

// An event, or (with `done`) the stop marker carrying the lost count.
struct Item {
  bpf_event event;
  Napi::FunctionReference* done;
  double lost;
};

void Deliver(Napi::Env env, Napi::Function onEvent, Item* item) {
  if (env != nullptr && item->done != nullptr) {
    item->done->Call({Napi::Number::New(env, item->lost)});
  } else if (env != nullptr) {
    const bpf_event& e = item->event;
    Napi::Object o = Napi::Object::New(env);
    o.Set("time", e.time_ms);
    o.Set("pid", e.pid);
    o.Set("tid", e.tid);
    o.Set("errno", e.errnum);
    o.Set("op", e.op);
    o.Set("comm", e.comm);
    o.Set("target", e.target);
    onEvent.Call({o});
  }
  delete item->done;
  delete item;
}

void Emit(const bpf_event* e, void* ctx) {
  // A creation guard's failure is the command's failed call, which is reported as the command's
  // (its landlock_restrict_self, before it forked, is not a failure: the domain's creator).
  if (e->errnum != 0 && notify_is_guard(e->pid)) return;
  // Never blocks: the queue is unbounded.
  static_cast<Tracer*>(ctx)->tsfn.NonBlockingCall(new Item{*e, nullptr, 0}, Deliver);
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsFunction())
    throw Napi::TypeError::New(env, "ebpfMonitor(pidnsDev: number, pidnsIno: number, onEvent: function)");
  fence_err e = {};
  auto dev = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  auto ino = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  bpf_monitor* mon = bpf_monitor_open(dev, ino, &e);
  if (mon == nullptr) {
    Napi::Error err = Napi::Error::New(env, e.errnum ? std::string(e.what) + ": " + std::strerror(e.errnum) : std::string(e.what));
    err.Set("errno", Napi::Number::New(env, e.errnum));
    throw err;
  }
  auto t = std::make_shared<Tracer>();
  t->mon = mon;
  t->tsfn = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "fence-ebpf", 0, 1);
  Tracer* raw = t.get();
  t->thread = std::thread([raw] { bpf_monitor_run(raw->mon, Emit, raw); });

  Napi::Object handle = Napi::Object::New(env);
  handle.Set("stop", Napi::Function::New(env, [t](const Napi::CallbackInfo& i) {
    if (i.Length() < 1 || !i[0].IsFunction()) throw Napi::TypeError::New(i.Env(), "stop(done: (lost: number) => void)");
    if (t->stopped) return;
    t->stopped = true;
    bpf_monitor_stop(t->mon);
    t->thread.join();  // the thread drained the ring to its last record
    double lost = static_cast<double>(bpf_monitor_lost(t->mon));
    bpf_monitor_free(t->mon);
    auto* done = new Napi::FunctionReference(Napi::Persistent(i[0].As<Napi::Function>()));
    t->tsfn.NonBlockingCall(new Item{{}, done, lost}, Deliver);
    t->tsfn.Release();
  }));
  return handle;
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  fence_err e = {};
  if (bpf_monitor_probe(&e) == 0) return info.Env().Undefined();
  return Napi::String::New(info.Env(), e.errnum ? std::string(e.what) + ": " + std::strerror(e.errnum) : std::string(e.what));
}
#else
Napi::Value Start(const Napi::CallbackInfo& info) { throw Napi::Error::New(info.Env(), "ebpfMonitor: Linux-only"); }
Napi::Value Probe(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), "eBPF is Linux-only"); }
#endif

}  // namespace

void RegisterTracer(Napi::Env env, Napi::Object exports) {
  exports.Set("ebpfMonitor", Napi::Function::New(env, Start, "ebpfMonitor"));
  exports.Set("ebpfProbe", Napi::Function::New(env, Probe, "ebpfProbe"));
}
