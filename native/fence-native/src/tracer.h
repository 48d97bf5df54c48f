// The addon's eBPF monitor (tracer.cc): registers ebpfMonitor() and ebpfProbe().
#ifndef FENCE_TRACER_H
#define FENCE_TRACER_H

#include <napi.h>

void RegisterTracer(Napi::Env env, Napi::Object exports);

#endif
