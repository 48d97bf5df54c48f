// The addon's seccomp user-notify supervisor (supervisor.cc): registers notifySupervisor().
#ifndef FENCE_SUPERVISOR_H
#define FENCE_SUPERVISOR_H

#include <napi.h>

void RegisterSupervisor(Napi::Env env, Napi::Object exports);

#endif
