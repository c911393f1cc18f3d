// netplumb native addon: syscalls only.
//
// - open a network namespace fd by path (no symlinks) or through a /proc/PID dir fd;
// - create sockets inside a namespace on a throwaway thread (the main thread and the
//   libuv pool threads never leave their namespace);
// - non-blocking receive driven by uv_poll; sends run on the libuv pool because the
//   kernel does the requested work inside sendmsg (RTNL lock, RCU grace periods).
//
// No message parsing here. Every failure is returned as data: {errno, syscall}, the errno as
// a number; TypeScript names it (src/netlink/errno.ts).
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <malloc.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

namespace {

Napi::Object SysError(Napi::Env env, int err, const char* syscall) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("errno", err);
  o.Set("syscall", syscall);
  return o;
}

// From libuv callbacks, values are built with the C API and every status checked: a worker
// being terminated refuses calls that may run JS, and node-addon-api would abort the
// process on such a refusal. A refusal clears what it left pending and answers false.
bool Refused(napi_env env) {
  bool pending = false;
  napi_value ignored;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
  return false;
}

bool RawSysError(napi_env env, int err, const char* syscall, napi_value* out) {
  napi_value no, sc;
  bool ok = napi_create_object(env, out) == napi_ok && napi_create_int32(env, err, &no) == napi_ok &&
            napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc) == napi_ok &&
            napi_set_named_property(env, *out, "errno", no) == napi_ok &&
            napi_set_named_property(env, *out, "syscall", sc) == napi_ok;
  return ok || Refused(env);
}

// Result of a syscall sequence run off the JS thread: either a value or an error.
struct Outcome {
  int value = -1;
  int err = 0;
  const char* syscall = nullptr;
  void Fail(const char* sc) {
    err = errno;
    syscall = sc;
  }
};

Napi::Object NsIdentity(Napi::Env env, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return SysError(env, errno, "fstat");
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", fd);
  o.Set("dev", static_cast<double>(st.st_dev));
  o.Set("ino", static_cast<double>(st.st_ino));
  return o;
}

// Check the fd is a network namespace; closes it and reports the error otherwise.
bool CheckNetNs(int fd, Outcome* out) {
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) {
    out->Fail("ioctl(NS_GET_NSTYPE)");
    close(fd);
    return false;
  }
  if (type != CLONE_NEWNET) {
    out->err = EINVAL;
    out->syscall = "ioctl(NS_GET_NSTYPE)";
    close(fd);
    return false;
  }
  return true;
}

class Poller;

// Per-environment registry so a worker thread's teardown closes its sockets.
struct EnvState {
  std::unordered_set<Poller*> live;
  // Namespace and packet-socket fds handed to JS and not closed yet: closed at teardown.
  std::unordered_set<int> openFds;
  // Set by the environment's cleanup hook (worker exit): from then on no JS may be called.
  bool tearingDown = false;
  // One receive buffer per thread's environment: pollers drain one at a time and copy out.
  std::vector<uint8_t> recvBuf = std::vector<uint8_t>(256 * 1024);
};

// Remember an fd handed to JS, so that a worker that exits without closing it does not leak it.
Napi::Value Owned(Napi::Env env, Napi::Value v, int fd) {
  env.GetInstanceData<EnvState>()->openFds.insert(fd);
  return v;
}

// openNetnsPath(path): open with RESOLVE_NO_SYMLINKS, check it is a net namespace.
Napi::Value OpenNetnsPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_NO_SYMLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
  if (fd < 0) return SysError(env, errno, "openat2");
  Outcome out;
  if (!CheckNetNs(fd, &out)) return SysError(env, out.err, out.syscall);
  return Owned(env, NsIdentity(env, fd), fd);
}

// Field 22 of /proc/PID/stat: the process start time in clock ticks since boot.
bool ReadStartTime(int dirfd, double* start, Outcome* out) {
  int fd = openat(dirfd, "stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out->Fail("openat(stat)");
    return false;
  }
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int saved = errno;
  close(fd);
  if (n <= 0) {
    errno = n < 0 ? saved : ESRCH;
    out->Fail("read(stat)");
    return false;
  }
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  if (p == nullptr) {
    errno = EIO;
    out->Fail("read(stat)");
    return false;
  }
  // After ") " come fields 3.. ; start time is field 22, i.e. the 20th after ')'.
  int field = 2;
  for (char* q = p + 1; *q != 0; q++) {
    if (*q == ' ') {
      field++;
      if (field == 22) {
        *start = strtod(q + 1, nullptr);
        return true;
      }
    }
  }
  errno = EIO;
  out->Fail("read(stat)");
  return false;
}

// openNetnsPid(pid): /proc/PID as a dir fd pins the process identity; ns/net is opened
// relative to it, so a PID reused after the lookup cannot redirect us.
Napi::Value OpenNetnsPid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  char path[64];
  snprintf(path, sizeof path, "/proc/%d", pid);
  int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return SysError(env, errno, "open(/proc/PID)");
  Outcome out;
  double start = 0;
  if (!ReadStartTime(dirfd, &start, &out)) {
    close(dirfd);
    return SysError(env, out.err, out.syscall);
  }
  int fd = openat(dirfd, "ns/net", O_RDONLY | O_CLOEXEC);
  int saved = errno;
  close(dirfd);
  if (fd < 0) return SysError(env, saved, "openat(ns/net)");
  if (!CheckNetNs(fd, &out)) return SysError(env, out.err, out.syscall);
  Napi::Value id = NsIdentity(env, fd);
  if (id.IsObject()) id.As<Napi::Object>().Set("startTime", start);
  return Owned(env, id, fd);
}

Napi::Value SelfNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct stat st;
  if (stat("/proc/thread-self/ns/net", &st) != 0) return SysError(env, errno, "stat");
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", -1);
  o.Set("dev", static_cast<double>(st.st_dev));
  o.Set("ino", static_cast<double>(st.st_ino));
  return o;
}

// trimMemory(): give the allocator's free pages back to the kernel (glibc malloc_trim).
// A long-lived process calls it when a burst is over; returns whether memory was released.
Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
}

// reexec(argv: string[]): replace this process's image with argv (execve, same pid, same
// environment, fds without O_CLOEXEC kept). Returns only on failure, with the error.
Napi::Value Reexec(const Napi::CallbackInfo& info) {
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < arr.Length(); i++) args.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  if (args.empty()) return SysError(info.Env(), EINVAL, "execve");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Standard input, output and error are the new image's too, whatever Node set on them.
  for (int fd = 0; fd <= 2; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) != 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  execve(argv[0], argv.data(), environ);
  return SysError(info.Env(), errno, "execve");
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  info.Env().GetInstanceData<EnvState>()->openFds.erase(fd);
  if (close(fd) != 0) return SysError(info.Env(), errno, "close");
  return info.Env().Null();
}

struct SocketSpec {
  int domain;
  int type;
  int protocol;
};

// Sockets made in a namespace: all of them (fd, and the netlink port id), or an error.
struct SocketsOutcome {
  std::vector<std::pair<int, uint32_t>> made;
  int err = 0;
  const char* syscall = nullptr;
  void Fail(const char* sc) {
    err = errno;
    syscall = sc;
    for (auto& m : made) close(m.first);
    made.clear();
  }
};

// A netlink socket ready for requests: extended ACKs, capped ACKs, strict dump checks,
// the receive buffer, bound (the kernel picks the port id). Returns the failed call or nullptr.
const char* SetupNetlink(int fd, int rcvbuf, uint32_t* portId) {
  int one = 1;
  if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one) != 0) return "setsockopt(NETLINK_EXT_ACK)";
  if (setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one) != 0) return "setsockopt(NETLINK_CAP_ACK)";
  if (setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one) != 0)
    return "setsockopt(NETLINK_GET_STRICT_CHK)";
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0)
    return "setsockopt(SO_RCVBUF)";
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  socklen_t len = sizeof sa;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return "bind";
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return "getsockname";
  *portId = sa.nl_pid;
  return nullptr;
}

// Create sockets inside namespace nsFd (-1: this thread's own). A throwaway thread enters
// the namespace, makes them all and exits: no thread that runs anything else ever changes
// namespace, and one trip serves every socket an operation needs. Netlink sockets are set
// up and bound (outside the namespace: a socket keeps the namespace it was made in).
SocketsOutcome SocketsInNetns(int nsFd, const std::vector<SocketSpec>& specs, int rcvbuf) {
  SocketsOutcome out;
  auto make = [&]() {
    for (const SocketSpec& sp : specs) {
      int fd = socket(sp.domain, sp.type | SOCK_CLOEXEC | SOCK_NONBLOCK, sp.protocol);
      if (fd < 0) return out.Fail("socket");
      out.made.emplace_back(fd, 0);
    }
  };
  if (nsFd < 0) {
    make();
  } else {
    std::thread worker([&]() {
      if (setns(nsFd, CLONE_NEWNET) != 0) return out.Fail("setns");
      make();
    });
    worker.join();
  }
  for (size_t i = 0; i < out.made.size(); i++) {
    if (specs[i].domain != AF_NETLINK) continue;
    const char* failed = SetupNetlink(out.made[i].first, rcvbuf, &out.made[i].second);
    if (failed != nullptr) {
      out.Fail(failed);
      break;
    }
  }
  return out;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

// The network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14+): unique for the boot and never
// reused, unlike the namespace's inode. Decimal text; empty where the kernel has none.
std::string NetnsCookie(int fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0 || len != sizeof cookie) return "";
  return std::to_string(cookie);
}

// openNetlink(nsFd, protocol, rcvbuf) -> {fd, portId, netnsCookie}
Napi::Value OpenNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int nsFd = info[0].As<Napi::Number>().Int32Value();
  int protocol = info[1].As<Napi::Number>().Int32Value();
  int rcvbuf = info[2].As<Napi::Number>().Int32Value();
  SocketsOutcome out = SocketsInNetns(nsFd, {{AF_NETLINK, SOCK_RAW, protocol}}, rcvbuf);
  if (out.err != 0) return SysError(env, out.err, out.syscall);
  // For a Poller, which adopts the fd (and takes it out of openFds).
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", out.made[0].first);
  o.Set("portId", static_cast<double>(out.made[0].second));
  o.Set("netnsCookie", NetnsCookie(out.made[0].first));
  return Owned(env, o, out.made[0].first);
}

// openSockets(nsFd, [domain, type, protocol, …], rcvbuf) -> Promise<[{fd, portId}, …] | SysError>
// The namespace thread runs on the libuv pool's behalf, so the event loop never waits for
// it. The caller keeps nsFd open until the promise settles.
// An AsyncWorker that settles a promise. Its result is built with the C API (see Refused):
// when JS is refused (the environment is ending), Abandon() undoes what JS will never see.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), state_(env.GetInstanceData<EnvState>()) {
    if (napi_create_promise(env, &deferred_, &promise_) != napi_ok) promise_ = nullptr;
  }

  // Queue the work and return its promise; undefined (and nothing queued) if none could be made.
  static Napi::Value Start(Napi::Env env, PromiseWorker* w) {
    napi_value p = w->promise_;
    if (p == nullptr) {
      delete w;
      return env.Undefined();
    }
    w->Queue();
    return Napi::Value(env, p);
  }

  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (state_->tearingDown || status == napi_cancelled) {
      Abandon();
      Napi::AsyncWorker::OnWorkComplete(env, napi_cancelled);
      return;
    }
    Napi::AsyncWorker::OnWorkComplete(env, status);
  }

 protected:
  // Resolve with what `build` makes; false (and Abandon()) when JS refused.
  bool Settle(const std::function<bool(napi_env, napi_value*)>& build) {
    napi_env env = Env();
    napi_value result = nullptr;
    bool ok = build(env, &result) && napi_resolve_deferred(env, deferred_, result) == napi_ok;
    if (!ok) {
      Refused(env);
      Abandon();
    }
    return ok;
  }

  virtual void Abandon() {}

  EnvState* state_;

 private:
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
};

class SocketsWorker : public PromiseWorker {
 public:
  SocketsWorker(Napi::Env env, int nsFd, std::vector<SocketSpec> specs, int rcvbuf)
      : PromiseWorker(env, "netplumb:sockets"), nsFd_(nsFd), specs_(std::move(specs)), rcvbuf_(rcvbuf) {}

  void Execute() override {
    out_ = SocketsInNetns(nsFd_, specs_, rcvbuf_);
    if (!out_.made.empty()) cookie_ = NetnsCookie(out_.made[0].first);
  }

  void OnOK() override {
    bool ok = Settle([this](napi_env env, napi_value* result) {
      if (out_.err != 0) return RawSysError(env, out_.err, out_.syscall, result);
      bool made = napi_create_array_with_length(env, out_.made.size(), result) == napi_ok;
      for (size_t i = 0; made && i < out_.made.size(); i++) {
        napi_value o, fd, port, cookie;
        made = napi_create_object(env, &o) == napi_ok && napi_create_int32(env, out_.made[i].first, &fd) == napi_ok &&
               napi_create_double(env, out_.made[i].second, &port) == napi_ok &&
               napi_set_named_property(env, o, "fd", fd) == napi_ok &&
               napi_create_string_utf8(env, cookie_.c_str(), cookie_.size(), &cookie) == napi_ok &&
               napi_set_named_property(env, o, "netnsCookie", cookie) == napi_ok &&
               napi_set_named_property(env, o, "portId", port) == napi_ok &&
               napi_set_element(env, *result, static_cast<uint32_t>(i), o) == napi_ok;
      }
      return made;
    });
    // JS owns the sockets now: closed at teardown unless JS closes them or a Poller adopts one
    // first (a worker may end between this resolution and the code that would take them).
    if (ok)
      for (auto& m : out_.made) state_->openFds.insert(m.first);
  }

 private:
  // At teardown, or when JS refused the result: the sockets are closed here.
  void Abandon() override {
    for (auto& m : out_.made) close(m.first);
    out_.made.clear();
  }

  int nsFd_;
  std::vector<SocketSpec> specs_;
  int rcvbuf_;
  SocketsOutcome out_;
  std::string cookie_;
};

// A blocking syscall on the libuv pool (it may wait for the RTNL lock or an RCU grace
// period): resolves with null or a SysError.
class SyscallWorker : public PromiseWorker {
 public:
  SyscallWorker(Napi::Env env, std::function<int()> call, const char* syscall)
      : PromiseWorker(env, "netplumb:syscall"), call_(std::move(call)), syscall_(syscall) {}

  void Execute() override { err_ = call_(); }

  void OnOK() override {
    Settle([this](napi_env env, napi_value* result) {
      return err_ != 0 ? RawSysError(env, err_, syscall_, result) : napi_get_null(env, result) == napi_ok;
    });
  }

 private:
  std::function<int()> call_;
  const char* syscall_;
  int err_ = 0;
};

Napi::Value OpenSockets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int nsFd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array flat = info[1].As<Napi::Array>();
  int rcvbuf = info[2].As<Napi::Number>().Int32Value();
  std::vector<SocketSpec> specs;
  for (uint32_t i = 0; i + 2 < flat.Length(); i += 3) {
    specs.push_back({flat.Get(i).As<Napi::Number>().Int32Value(), flat.Get(i + 1).As<Napi::Number>().Int32Value(),
                     flat.Get(i + 2).As<Napi::Number>().Int32Value()});
  }
  return PromiseWorker::Start(env, new SocketsWorker(env, nsFd, std::move(specs), rcvbuf));
}

// packetSend(fd, ifindex, ethertype, dstMac, payload)
Napi::Value PacketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ifindex = info[1].As<Napi::Number>().Int32Value();
  int ethertype = info[2].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> mac = info[3].As<Napi::Buffer<uint8_t>>();
  Napi::Buffer<uint8_t> payload = info[4].As<Napi::Buffer<uint8_t>>();
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  sll.sll_protocol = htons(static_cast<uint16_t>(ethertype));
  sll.sll_halen = 6;
  memcpy(sll.sll_addr, mac.Data(), mac.Length() < 6 ? mac.Length() : 6);
  ssize_t n = sendto(fd, payload.Data(), payload.Length(), 0, reinterpret_cast<sockaddr*>(&sll), sizeof sll);
  if (n < 0) return SysError(env, errno, "sendto");
  return env.Null();
}

// setSocketOption(fd, level, name, value): setsockopt() with the bytes given (SO_BINDTODEVICE …).
Napi::Value SetSocketOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int level = info[1].As<Napi::Number>().Int32Value();
  int name = info[2].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> value = info[3].As<Napi::Buffer<uint8_t>>();
  if (setsockopt(fd, level, name, value.Data(), static_cast<socklen_t>(value.Length())) != 0)
    return SysError(env, errno, "setsockopt");
  return env.Null();
}

// ETHTOOL_STXCSUM through SIOCETHTOOL on an inet socket: acts in the socket's namespace.
int EthtoolTxChecksum(int fd, const std::string& name, bool on) {
  struct ethtool_value ev;
  ev.cmd = ETHTOOL_STXCSUM;
  ev.data = on ? 1 : 0;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&ev);
  return ioctl(fd, SIOCETHTOOL, &ifr) != 0 ? errno : 0;
}

// ethtoolTxChecksum(fd, ifname, on) -> Promise<null | SysError>: on an inet socket the caller
// made in the namespace, on the pool (the ioctl takes the RTNL lock).
Napi::Value EthtoolTxChecksumOn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  bool on = info[2].As<Napi::Boolean>().Value();
  return PromiseWorker::Start(env, new SyscallWorker(
                                       env, [fd, name, on]() { return EthtoolTxChecksum(fd, name, on); },
                                       "ioctl(SIOCETHTOOL, ETHTOOL_STXCSUM)"));
}

// closeAsync(fd) -> Promise<null | SysError>: close on the pool (closing a packet socket
// waits for an RCU grace period).
Napi::Value CloseAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  env.GetInstanceData<EnvState>()->openFds.erase(fd);
  return PromiseWorker::Start(env, new SyscallWorker(
                                       env, [fd]() { return close(fd) != 0 ? errno : 0; }, "close"));
}

// peerCredentials(fd) -> {pid, uid, gid}: SO_PEERCRED of a connected unix socket.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return SysError(env, errno, "getsockopt(SO_PEERCRED)");
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", static_cast<double>(cred.pid));
  o.Set("uid", static_cast<double>(cred.uid));
  o.Set("gid", static_cast<double>(cred.gid));
  return o;
}

// Call into JS from a libuv callback. An exception the callback throws becomes an
// 'uncaughtException', as for any event callback. A worker being terminated refuses to
// run JS; that is not an error here (node-addon-api's MakeCallback would abort instead).
void CallIgnoringTermination(Napi::Env env, napi_value recv, napi_value fn, std::initializer_list<napi_value> args) {
  napi_value result;
  napi_status status = napi_make_callback(env, nullptr, recv, fn, args.size(), args.begin(), &result);
  bool pending = false;
  if (status == napi_pending_exception || (napi_is_exception_pending(env, &pending) == napi_ok && pending)) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

// The fd and who still uses it: the Poller and every send in flight on a pool thread.
// Only the loop thread changes it; the fd is closed when the last user is done.
struct SocketState {
  int fd;
  int inFlight = 0;
  bool closeRequested = false;
  explicit SocketState(int f) : fd(f) {}
  void MaybeClose() {
    if (closeRequested && inFlight == 0 && fd >= 0) {
      close(fd);
      fd = -1;
    }
  }
};

// A non-blocking socket: receive driven by uv_poll, send on the libuv pool.
// JS: new Poller(fd, onData(datagrams), onError(sysError)); takes ownership of fd.
class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {
                           InstanceMethod("send", &Poller::SendMethod),
                           InstanceMethod("close", &Poller::CloseMethod),
                           InstanceMethod("ref", &Poller::RefMethod),
                           InstanceMethod("unref", &Poller::UnrefMethod),
                       });
  }

  Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    sock_ = std::make_shared<SocketState>(info[0].As<Napi::Number>().Int32Value());
    onData_ = Napi::Persistent(info[1].As<Napi::Function>());
    onError_ = Napi::Persistent(info[2].As<Napi::Function>());
    state_ = env.GetInstanceData<EnvState>();
    // The fd is the Poller's from now on: it closes it, not the teardown sweep.
    state_->openFds.erase(sock_->fd);
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    // malloc'd and freed by libc's free as the close callback: when a worker exits, the
    // handle may be closed after this addon has been unloaded, so no code of ours may run then.
    handle_ = static_cast<uv_poll_t*>(malloc(sizeof(uv_poll_t)));
    handle_->data = this;
    if (uv_poll_init(loop, handle_, sock_->fd) != 0 || uv_poll_start(handle_, UV_READABLE, OnReadable) != 0) {
      free(handle_);
      handle_ = nullptr;
      Napi::Error::New(env, "uv_poll_init failed").ThrowAsJavaScriptException();
      return;
    }
    state_->live.insert(this);
  }

  ~Poller() override { Shutdown(); }

  // Stop polling; the fd is closed once no send is in flight. Idempotent.
  void Shutdown() {
    if (sock_->closeRequested) return;
    sock_->closeRequested = true;
    if (state_ != nullptr) state_->live.erase(this);
    // The callbacks are strong references to closures that hold this Poller's own wrapper
    // (through the transport that owns it): kept, they would keep every closed socket's
    // transport, engine and buffers alive for ever. Nothing is delivered once closed.
    if (state_ != nullptr && !state_->tearingDown) {
      onData_.Reset();
      onError_.Reset();
    }
    if (handle_ != nullptr) {
      uv_poll_stop(handle_);
      uv_close(reinterpret_cast<uv_handle_t*>(handle_), reinterpret_cast<uv_close_cb>(free));
      handle_ = nullptr;
    }
    sock_->MaybeClose();
  }

 private:
  static void OnReadable(uv_poll_t* h, int status, int /*events*/) { static_cast<Poller*>(h->data)->Drain(status); }

  // Read every pending datagram and deliver them in one callback.
  // Built with the C API (see Refused): a refusal drops the batch, as the worker is going away.
  void Drain(int status) {
    Napi::Env env = onData_.Env();
    Napi::HandleScope scope(env);
    napi_value err;
    if (status < 0) {
      if (RawSysError(env, -status, "uv_poll", &err)) Notify(onError_, err);
      return;
    }
    napi_value batch;
    if (napi_create_array(env, &batch) != napi_ok) return;
    uint32_t count = 0;
    std::vector<uint8_t>& buf = state_->recvBuf;
    for (;;) {
      ssize_t n = recv(sock_->fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 || static_cast<size_t>(n) > buf.size()) {
        int e = n < 0 ? errno : EMSGSIZE;
        if (count > 0) Notify(onData_, batch);
        if (RawSysError(env, e, "recv", &err)) Notify(onError_, err);
        return;
      }
      napi_value copy;
      void* data = nullptr;
      if (napi_create_buffer_copy(env, static_cast<size_t>(n), buf.data(), &data, &copy) != napi_ok ||
          napi_set_element(env, batch, count++, copy) != napi_ok) {
        Refused(env);
        return;
      }
    }
    if (count > 0) Notify(onData_, batch);
  }

  void Notify(Napi::FunctionReference& fn, napi_value arg) {
    if (sock_->closeRequested || state_->tearingDown) return;
    CallIgnoringTermination(Env(), Value(), fn.Value(), {arg});
  }

  // send(datagrams: Buffer[], done(err|null, sent))
  Napi::Value SendMethod(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array arr = info[0].As<Napi::Array>();
    Napi::Function cb = info[1].As<Napi::Function>();
    if (sock_->closeRequested) {
      cb.Call({SysError(env, EBADF, "sendmsg"), Napi::Number::New(env, 0)});
      return env.Undefined();
    }
    sock_->inFlight++;
    Ref();  // the wrapper may not be collected while a pool thread uses its buffers
    (new SendWorker(cb, arr, sock_, state_, this))->Queue();
    return env.Undefined();
  }

  // A batch of datagrams sent on a pool thread, as N-API async work: Node keeps the
  // environment (and this addon) alive until it completes, even while a worker exits.
  // It holds the socket state; the Poller is touched only while JS can still run.
  class SendWorker : public Napi::AsyncWorker {
   public:
    SendWorker(Napi::Function cb, Napi::Array arr, std::shared_ptr<SocketState> sock, EnvState* state, Poller* self)
        : Napi::AsyncWorker(cb, "netplumb:send"), sock_(std::move(sock)), state_(state), self_(self) {
      for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Buffer<uint8_t> b = arr.Get(i).As<Napi::Buffer<uint8_t>>();
        datagrams_.emplace_back(b.Data(), b.Length());
      }
      keep_ = Napi::Persistent(arr.As<Napi::Object>());
    }

    void Execute() override {
      for (auto& d : datagrams_) {
        ssize_t n;
        do {
          n = send(sock_->fd, d.first, d.second, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
          err_ = errno;
          return;
        }
        sent_++;
      }
    }

    // Runs whether the work completed or was cancelled at teardown: the fd bookkeeping first.
    void OnWorkComplete(Napi::Env env, napi_status status) override {
      sock_->inFlight--;
      sock_->MaybeClose();
      if (state_->tearingDown || status == napi_cancelled) {
        keep_.SuppressDestruct();
        Callback().SuppressDestruct();
        Receiver().SuppressDestruct();
        Napi::AsyncWorker::OnWorkComplete(env, napi_cancelled);
        return;
      }
      Napi::AsyncWorker::OnWorkComplete(env, status);
    }

    void OnOK() override {
      Napi::Env env = Env();
      napi_value err = env.Null();
      napi_value sent;
      if ((err_ == 0 || RawSysError(env, err_, "sendmsg", &err)) &&
          napi_create_double(env, static_cast<double>(sent_), &sent) == napi_ok) {
        CallIgnoringTermination(env, env.Global(), Callback().Value(), {err, sent});
      }
      self_->Unref();
    }

   private:
    std::shared_ptr<SocketState> sock_;
    EnvState* state_;
    Poller* self_;
    std::vector<std::pair<const uint8_t*, size_t>> datagrams_;
    Napi::ObjectReference keep_;
    int err_ = 0;
    size_t sent_ = 0;
  };

  Napi::Value CloseMethod(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value RefMethod(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefMethod(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  std::shared_ptr<SocketState> sock_;
  uv_poll_t* handle_ = nullptr;
  EnvState* state_ = nullptr;
  Napi::FunctionReference onData_;
  Napi::FunctionReference onError_;
};

void KeepEnvState(Napi::Env, EnvState*) {}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Never freed: a Poller collected after teardown must still find it valid.
  EnvState* state = new EnvState();
  env.SetInstanceData<EnvState, KeepEnvState>(state);
  env.AddCleanupHook([state]() {
    state->tearingDown = true;
    std::vector<Poller*> live(state->live.begin(), state->live.end());
    for (Poller* p : live) p->Shutdown();
    for (int fd : state->openFds) close(fd);
    state->openFds.clear();
  });
  exports.Set("openNetnsPath", Napi::Function::New(env, OpenNetnsPath));
  exports.Set("openNetnsPid", Napi::Function::New(env, OpenNetnsPid));
  exports.Set("selfNetns", Napi::Function::New(env, SelfNetns));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("trimMemory", Napi::Function::New(env, TrimMemory));
  exports.Set("reexec", Napi::Function::New(env, Reexec));
  exports.Set("openNetlink", Napi::Function::New(env, OpenNetlink));
  exports.Set("packetSend", Napi::Function::New(env, PacketSend));
  exports.Set("setSocketOption", Napi::Function::New(env, SetSocketOption));
  exports.Set("ethtoolTxChecksum", Napi::Function::New(env, EthtoolTxChecksumOn));
  exports.Set("closeAsync", Napi::Function::New(env, CloseAsync));
  exports.Set("openSockets", Napi::Function::New(env, OpenSockets));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials));
  exports.Set("Poller", Poller::Define(env));
  return exports;
}

NODE_API_MODULE(netplumb, Init)
