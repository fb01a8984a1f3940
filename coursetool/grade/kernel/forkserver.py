"""Warm kernels: a fork server that has imported the lab's modules forks each submission's kernel.

Standard library only at module level: the same file is the server and the client.

* ``serve`` (run inside the grader's sandbox, as ``python -c SOURCE serve SOCKET WARM_ROOT
  SANDBOXED MODULE...``): imports IPython's kernel and the lab's modules once, then for each
  request forks a *keeper*. The keeper makes new mount, pid, network and IPC namespaces and
  forks a minimal init, pid 1 of that namespace, which empties the folder that holds every
  kernel's folders (``WARM_ROOT``) with a read-only tmpfs, binds its own folder back, gives up
  every capability, applies its limits and forks the kernel: an ordinary process (pid 2) in a
  session and process group of its own, so that nothing it signals reaches the server, the
  keeper or another kernel, and a signal it sends itself works as it does anywhere. The keeper reports the
  kernel's exit, passes signals on, and kills the kernel (and with it its namespace) when the
  client goes away. Kernels of one server run side by side, each in its own namespaces.
* the client (``python -I -S forkserver.py SOCKET REQUEST GROUPS MEMORY PROCESSES``) is what the
  kernel manager starts in place of a kernel, outside the sandbox: it asks the server for a
  kernel, moves the keeper into groups of its own (``kernel_limits``, where the grader can make them)
  before the kernel is forked, passes signals on, dies with the grader and exits with the
  kernel's status.
"""
from __future__ import annotations

import ctypes
import importlib
import importlib.util
import json
import os
import resource
import select
import signal
import socket
import struct
import sys

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 1, 24, 38, 47, 4
CAPABILITY_VERSION_3 = 0x20080522
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython", "vaelab.probes")  # the guard's probes too
NOT_BEFORE_THE_SHELL = ("matplotlib_inline",)  # hooks into the shell when first imported: the kernel imports it
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

libc = ctypes.CDLL(None, use_errno=True)


def checked(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: text.encode() if text is not None else None
    checked(libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
            f"mount {target}")


def unshare(flags: int) -> None:
    checked(libc.unshare(flags), "unshare")


def drop_capabilities() -> None:
    """No capability left, none to gain back by exec."""
    checked(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    checked(libc.capset(header, data), "capset")


def own_view(warm_root: str, folder: str) -> None:
    """Hide every other kernel's folder: an empty read-only tmpfs on ``warm_root``, this kernel's folder bound back."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    handle = os.open(folder, os.O_PATH | os.O_DIRECTORY)
    mount("tmpfs", warm_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    os.makedirs(folder)
    mount(f"/proc/self/fd/{handle}", folder, None, MS_BIND | MS_REC)
    os.close(handle)
    mount("tmpfs", warm_root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755")
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")  # nothing left by an earlier kernel
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)  # this namespace's processes only
    except OSError:
        pass  # /proc keeps showing the server's namespace: the server and the keeper, nothing else


def limit_resources(memory: int, cpu_seconds: int) -> None:
    """``memory`` bytes of data on top of what the server had mapped, and the CPU time limit."""
    with open("/proc/self/status") as status:
        mapped = next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmData:")), 0)
    ceiling = resource.getrlimit(resource.RLIMIT_DATA)[1]
    data = mapped + memory if ceiling == resource.RLIM_INFINITY else min(mapped + memory, ceiling)
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def prepare_namespace(request: dict, warm_root: str, sandboxed: bool) -> None:
    """In the first process of the kernel's namespaces: its own view, no capabilities, its limits."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if sandboxed:
        own_view(warm_root, request["folder"])
        drop_capabilities()
    limit_resources(request["memory"], request["cpu_seconds"])


def start_kernel(request: dict) -> None:
    """In the kernel's process: a session and process group of its own, its environment; then IPython's kernel."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()  # what the kernel sends to its process group (kill(0, ...)) reaches only its own processes
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()  # a fresh global stream, as a new process has (random reseeds itself after fork)
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    app.initialize(["-f", request["connection_file"], "--IPKernelApp.parent_handle=0"])
    app.start()


def fork_kernel(request: dict) -> int:
    """Fork the kernel's process; its pid."""
    pid = os.fork()
    if pid == 0:
        try:
            start_kernel(request)
        finally:
            os._exit(1)
    return pid


def init(request: dict, warm_root: str, sandboxed: bool) -> int:
    """Pid 1 of the kernel's namespace, as a minimal init: the kernel runs beside it as an ordinary process (a
    signal it sends itself works as anywhere), signals from the keeper are passed on to it, orphans are reaped,
    and when the kernel ends, init ends with its status, which ends every process left in the namespace."""
    prepare_namespace(request, warm_root, sandboxed)
    os.setsid()
    kernel = fork_kernel(request)
    for number in FORWARDED_SIGNALS:
        signal.signal(number, lambda number, frame: os.kill(kernel, number))
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == kernel:
            return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def enter_own_groups(connection: socket.socket) -> None:
    """Show the client who this keeper is (the kernel translates the pid); it moves the keeper into the kernel's
    own groups, so that what the kernel allocates, forks and computes counts there and not in the server's."""
    credentials = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
    connection.sendmsg([b"keeper\n"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, credentials)])
    read_line(connection)  # placed


def keep(connection: socket.socket, request: dict, warm_root: str, sandboxed: bool) -> int:
    """The keeper: join the kernel's own cgroups (memory, pids and cpu, each where it exists), fork the kernel
    into new namespaces, pass signals on, report how it ended."""
    enter_own_groups(connection)
    if sandboxed:
        unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC)
    pid = os.fork()
    if pid == 0:
        connection.close()
        code = 1
        try:
            if sandboxed:
                code = init(request, warm_root, sandboxed)
            else:
                prepare_namespace(request, warm_root, sandboxed)
                start_kernel(request)
        finally:
            os._exit(code)
    process = os.pidfd_open(pid)
    while True:
        ready, _, _ = select.select([connection, process], [], [])
        if process in ready:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            connection.sendall(f"exit {code}\n".encode())
            return 0
        message = connection.recv(64).decode(errors="replace").split()
        if not message:  # the client is gone: so is the kernel, with every process of its namespace
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return 0
        if message[0] == "signal" and message[-1].isdigit():
            os.kill(pid, int(message[-1]))


def read_line(connection: socket.socket) -> bytes:
    """One newline-ended message from the other side; EOFError if it leaves first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            raise EOFError("the other side left")
        data += chunk
    return data


def load_lazy_names(module: object) -> None:
    """A package that loads its public names on first use (PEP 562): load them now, its submodules left as they are."""
    if "__getattr__" not in vars(module) or not hasattr(module, "__path__"):
        return
    for attribute in getattr(module, "__all__", ()):
        if attribute not in vars(module) and importlib.util.find_spec(f"{module.__name__}.{attribute}") is None:
            getattr(module, attribute, None)


def serve(address: str, warm_root: str, sandboxed: bool, modules: list[str]) -> None:
    """Import once, then fork a keeper per request."""
    for name in (*KERNEL_MODULES, *modules):
        if name.startswith(NOT_BEFORE_THE_SHELL):
            continue
        try:
            load_lazy_names(importlib.import_module(name))
        except Exception:  # a module of the lab's own folder, or one that fails: the kernel imports it itself
            pass
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # as ipykernel_launcher does; IPython puts the kernel's own folder back
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        pid = os.fork()
        if pid == 0:
            listener.close()
            code = 1
            try:
                code = keep(connection, json.loads(read_line(connection)), warm_root, sandboxed)
            finally:
                os._exit(code)
        connection.close()


def place_keeper(connection: socket.socket, groups: str, memory: int, processes: int) -> None:
    """Read the keeper's pid from its credentials; where cgroups work, move it into new groups with the kernel's
    limits (named after this client, removed once it is gone)."""
    size = socket.CMSG_SPACE(struct.calcsize("3i"))
    _, ancillary, _, _ = connection.recvmsg(64, size)
    pids = [struct.unpack("3i", data[:12])[0] for level, kind, data in ancillary
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS]
    if groups != "-" and pids:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import limits as kernel_limits  # standard library only, beside this file
        try:
            kernel_limits.place_in_new_groups(json.loads(groups), os.getpid(), pids[0], memory, processes)
        except OSError:
            pass  # no group: the kernel's RLIMIT_DATA still holds, as where no group can be made
    connection.sendall(b"placed\n")


def client(address: str, request: str, groups: str, memory: int, processes: int) -> int:
    """Stand in for the kernel's process: ask for a kernel, give it its groups, pass signals on,
    exit as it exits."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    connection.connect(address)
    connection.sendall(request.encode() + b"\n")
    place_keeper(connection, groups, memory, processes)
    for number in FORWARDED_SIGNALS:
        signal.signal(number, lambda number, frame: connection.sendall(f"signal {int(number)}\n".encode()))
    try:
        return int(read_line(connection).split()[-1]) % 256  # "exit N"
    except EOFError:
        return 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5:])
    else:
        sys.exit(client(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
