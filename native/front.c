// netplumb's native front door: the executable behind `netplumb`, `pipework` and
// `netplumb-cni` (one binary, told apart by the name it was called by, busybox style; a
// call with CNI_COMMAND set is netplumb-cni's whatever the name: a runtime runs the plugin
// by its configuration's `type`, which may name a link called otherwise).
//
// Like ovs-appctl, it parses nothing: it hands the program name, its arguments and the
// variables of the environment netplumb reads to the running daemon (`netplumb serve`,
// $NETPLUMB_SOCKET or /run/netplumb/netplumb.sock), sends standard input only when the
// command asks for it, writes back what the command writes, and exits with its status.
// The daemon parses and runs everything, in TypeScript. When no daemon answers, or it
// hands the call back (it acts on another OVSDB or container engine, --no-daemon, …),
// this execs the Node.js command (bin/node-cli.js, beside or above this file), which acts
// alone; standard input already read is handed on.
//
// Framing (src/daemon/front-frames.ts has the whole table): the magic line, then frames
// TYPE (1 byte), LENGTH (u32 big-endian), PAYLOAD. To the daemon: P program, A argument,
// V NAME=VALUE, G go, I stdin chunk, Z stdin end. From it: s taken, o stdout, e stderr,
// i send stdin, x exit status (1 byte), n not served here.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char** environ;

static const char kMagic[] = "\0netplumb-front 1\n";
#define MAGIC_BYTES (sizeof kMagic - 1)
#define DEFAULT_SOCKET "/run/netplumb/netplumb.sock"
// How long the daemon may take to take the call before this gives up and acts alone. Taking
// it needs nothing but the daemon's event loop: a daemon silent this long is stopped or
// wedged. (A daemon that reads the request only later sees the hang-up with it and does not
// run it.) Once taken, a call is waited for, however long it runs.
#define TAKE_TIMEOUT_MS 10000
#define CHUNK 65536

// The programs, and the exit status each gives when the outcome is unknown (the daemon
// died during the call): netplumb's OUTCOME_UNKNOWN, pipework's and CNI's failure (with a
// CNI error, code 11 "try again later", on stdout).
static const struct {
  const char* name;
  int unknown_outcome;
} kPrograms[] = {{"netplumb", 12}, {"pipework", 1}, {"netplumb-cni", 1}};

// The variables netplumb reads; no other leaves this process.
static const char* const kPassed[] = {"NETPLUMB_", "PIPEWORK_", "OVS_", "OVN_", "CNI_", "DOCKER_HOST="};

static const char* prog;
static int unknown_outcome = 1;
static const char* socket_path;
// Standard input as sent to the daemon, kept to hand on to Node.js (-1: none read).
static int stdin_copy = -1;

static void die(const char* what) {
  fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
  exit(70);
}

// A growing byte buffer for the request.
struct buf {
  char* p;
  size_t len, cap;
};

static void put(struct buf* b, const void* data, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->p = realloc(b->p, b->cap);
    if (b->p == NULL) die("out of memory");
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void put_frame(struct buf* b, char type, const void* data, size_t n) {
  unsigned char head[5] = {(unsigned char)type, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                           (unsigned char)(n >> 8), (unsigned char)n};
  put(b, head, sizeof head);
  put(b, data, n);
}

// Write all of it; 0, or -1 with errno. A socket write never raises SIGPIPE.
static int write_all(int fd, const char* p, size_t n, int is_socket) {
  while (n > 0) {
    ssize_t w = is_socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // a non-blocking descriptor we were given: wait until it drains
        struct pollfd pfd = {fd, POLLOUT, 0};
        poll(&pfd, 1, -1);
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// Read exactly n bytes: 1, 0 at end of stream (before or in the middle), -1 with errno.
static int read_full(int fd, void* into, size_t n) {
  char* p = into;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 0;
    p += r;
    n -= (size_t)r;
  }
  return 1;
}

// Run the Node.js command instead: bin/node-cli.js PROGRAM ARGS…, with the standard input
// the daemon was sent (if any) and without NODE_EXTRA_CA_CERTS (loading a CA bundle costs
// ~120 ms and the commands open no TLS connection).
static void run_node(char** argv) __attribute__((noreturn));
static void run_node(char** argv) {
  char exe[PATH_MAX], cli[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0) die("cannot find where it is installed (/proc/self/exe)");
  exe[n] = '\0';
  *strrchr(exe, '/') = '\0';
  // Installed in bin/ (beside the launcher), or built in build/Release/ or prebuilds/<platform>/.
  snprintf(cli, sizeof cli, "%s/node-cli.js", exe);
  if (access(cli, R_OK) != 0) snprintf(cli, sizeof cli, "%s/../../bin/node-cli.js", exe);
  if (access(cli, R_OK) != 0) {
    fprintf(stderr,
            "%s: no daemon serves this call, and bin/node-cli.js is not beside %s/ nor two levels up "
            "(run the installed command, or a symbolic link to it, not a copy)\n",
            prog, exe);
    exit(127);
  }
  if (stdin_copy >= 0 && (lseek(stdin_copy, 0, SEEK_SET) < 0 || dup2(stdin_copy, 0) < 0))
    die("cannot hand standard input on");
  unsetenv("NODE_EXTRA_CA_CERTS");
  int argc = 0;
  while (argv[argc] != NULL) argc++;
  char** args = calloc((size_t)argc + 3, sizeof *args);
  if (args == NULL) die("out of memory");
  args[0] = "node";
  args[1] = cli;
  args[2] = (char*)prog;
  for (int i = 1; i < argc; i++) args[i + 2] = argv[i];
  execvp("node", args);
  fprintf(stderr, "%s: no daemon serves this call, and Node.js cannot be started (node %s): %s\n", prog, cli,
          strerror(errno));
  exit(127);
}

static int connect_daemon(void) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) return -1;
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) == 0) return fd;
  close(fd);
  return -1;  // no socket, nobody listening, or no access: act alone
}

static int passed(const char* var) {
  for (size_t i = 0; i < sizeof kPassed / sizeof *kPassed; i++)
    if (strncmp(var, kPassed[i], strlen(kPassed[i])) == 0) return 1;
  return 0;
}

// The program name, its arguments and the variables netplumb reads, framed.
static struct buf request(char** argv) {
  struct buf b = {0};
  put(&b, kMagic, MAGIC_BYTES);
  put_frame(&b, 'P', prog, strlen(prog));
  for (int i = 1; argv[i] != NULL; i++) put_frame(&b, 'A', argv[i], strlen(argv[i]));
  for (char** e = environ; *e != NULL; e++)
    if (passed(*e)) put_frame(&b, 'V', *e, strlen(*e));
  put_frame(&b, 'G', "", 0);
  return b;
}

// The daemon asked for standard input: all of it, to the daemon and to a copy kept for Node.js.
static void send_stdin(int fd) {
  static char chunk[5 + CHUNK];
  stdin_copy = memfd_create("netplumb-stdin", MFD_CLOEXEC);
  if (stdin_copy < 0) die("memfd_create");
  for (;;) {
    ssize_t r = read(0, chunk + 5, CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("cannot read standard input");
    chunk[0] = r == 0 ? 'Z' : 'I';
    uint32_t n = (uint32_t)r;
    chunk[1] = (char)(n >> 24), chunk[2] = (char)(n >> 16), chunk[3] = (char)(n >> 8), chunk[4] = (char)n;
    if (write_all(stdin_copy, chunk + 5, (size_t)r, 0) < 0) die("cannot keep standard input");
    // The daemon gone: what it did and said comes next (or its hang-up).
    if (write_all(fd, chunk, 5 + (size_t)r, 1) < 0) return;
    if (r == 0) return;
  }
}

// Copy a frame's payload of n bytes to out (-1: drop it). 1, or what read_full failed with.
static int relay(int fd, uint32_t n, int out) {
  static char chunk[CHUNK];
  while (n > 0) {
    size_t part = n < CHUNK ? n : CHUNK;
    int r = read_full(fd, chunk, part);
    if (r <= 0) return r;
    if (out >= 0 && write_all(out, chunk, part, 0) < 0) out = -1;  // a closed output: the call goes on
    n -= (uint32_t)part;
  }
  return 1;
}

// The daemon died, or broke the framing, once the call was taken.
static void lost(const char* how) __attribute__((noreturn));
static void lost(const char* how) {
  if (strcmp(prog, "netplumb-cni") == 0)
    printf(
        "{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"the netplumb daemon %s during the call\","
        "\"details\":\"it may or may not have been carried out; try again later\"}\n",
        how);
  fflush(stdout);
  fprintf(stderr,
          "%s: the netplumb daemon (%s) %s during the call: it may or may not have been carried out; "
          "see `netplumb list` before running it again\n",
          prog, socket_path, how);
  exit(unknown_outcome);
}

int main(int argc, char** argv) {
  (void)argc;
  const char* slash = strrchr(argv[0], '/');
  prog = getenv("CNI_COMMAND") != NULL ? "netplumb-cni" : slash ? slash + 1 : argv[0];
  size_t i = 0;
  while (i < sizeof kPrograms / sizeof *kPrograms && strcmp(prog, kPrograms[i].name) != 0) i++;
  if (i == sizeof kPrograms / sizeof *kPrograms) {
    fprintf(stderr, "%s: run me as netplumb, pipework or netplumb-cni (a link by one of those names)\n", prog);
    return 2;
  }
  unknown_outcome = kPrograms[i].unknown_outcome;
  const char* env = getenv("NETPLUMB_SOCKET");
  socket_path = env != NULL && env[0] != '\0' ? env : DEFAULT_SOCKET;

  int fd = connect_daemon();
  if (fd < 0) run_node(argv);
  struct buf req = request(argv);
  if (write_all(fd, req.p, req.len, 1) < 0) run_node(argv);  // hung up at once: nothing taken
  free(req.p);

  int taken = 0;
  for (;;) {
    if (!taken) {
      struct pollfd pfd = {fd, POLLIN, 0};
      if (poll(&pfd, 1, TAKE_TIMEOUT_MS) == 0) run_node(argv);  // not answering: act alone
    }
    unsigned char head[5];
    int r = read_full(fd, head, 1);
    // Nothing, or a JSON-RPC line (a refused peer, a daemon without the front door): not taken.
    if (!taken && (r <= 0 || head[0] == '{')) run_node(argv);
    if (r > 0) r = read_full(fd, head + 1, 4);
    if (r <= 0) lost(r == 0 ? "hung up" : "failed");
    uint32_t n = (uint32_t)head[1] << 24 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 8 | head[4];
    switch (head[0]) {
      case 's':
        taken = 1;
        r = relay(fd, n, -1);
        break;
      case 'o':
      case 'e':
        r = relay(fd, n, head[0] == 'o' ? 1 : 2);
        break;
      case 'i':
        r = relay(fd, n, -1);
        send_stdin(fd);
        break;
      case 'x': {
        unsigned char status = 1;
        if (n != 1 || read_full(fd, &status, 1) <= 0) lost("sent a malformed exit status");
        return status;
      }
      case 'n':
        close(fd);
        run_node(argv);
      default:
        if (!taken) run_node(argv);
        lost("sent an unknown frame");
    }
    if (r <= 0) lost(r == 0 ? "hung up" : "failed");
  }
}
