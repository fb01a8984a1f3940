"""Runs inside the grading kernel: test cells see pristine versions of what they rely on.

The grader sends this file's source to the kernel before any student code runs, then calls
``install``. Before every test cell it calls ``enter``, which puts back what student code may
have replaced in shared state: functions and classes of the modules the lab imports
(``torch.allclose``, ``math.isclose``, builtins), ``sys.modules`` entries, IPython's input
and AST transformers, event callbacks and exception handlers, and the methods of the shell
and kernel objects; tensor subclasses' ``__torch_function__`` overrides are off while the
test runs. ``exit`` gives all of it back afterwards, so the student's own code goes on
exactly as written.

The student's global names are never touched. The grader rewrites the test cell's own code
so that the names it reads from the lab (builtins, what the lab's imports bind, what locked
cells define) come from ``lookup``: the pristine value, while a student's ``from torch import
sum`` still serves the student's functions.

This guards against overriding, not against an attack on the guard itself: it runs in the
same process as the student's code.
"""
import builtins
import contextlib
import importlib
import importlib.util
import json
import sys

MISSING = object()
ALWAYS_GUARDED = ("builtins", "math", "operator", "unittest", "json")  # json: probes encode their values with it
TESTING_MODULES = {"torch": ("torch.testing", "torch.nn.functional"), "numpy": ("numpy.testing",)}
KERNEL_PACKAGES = ("IPython", "ipykernel", "comm", "jupyter_client", "matplotlib_inline")
SHELL_LISTS = ("ast_transformers", "input_transformers_cleanup", "input_transformers_post")
WATCHED_EVENTS = frozenset({  # audit events that a student's own cell has no business raising
    "sys.addaudithook", "sys.settrace", "sys.setprofile", "sys._current_frames", "gc.get_objects",
    "gc.get_referrers", "gc.get_referents", "ctypes.dlsym", "ctypes.string_at", "ctypes.addressof", "ctypes.cdata",
})


def belongs_to_kernel(value):
    """Kernel machinery swaps some builtins and hooks in and out itself: those are not the student's."""
    owner = getattr(value, "__module__", None) or type(value).__module__
    return str(owner).split(".")[0] in KERNEL_PACKAGES


def callables_of(namespace):
    """The callable entries of a module's or class's namespace."""
    return {name: value for name, value in list(namespace.items()) if callable(value)}


def load_lazy_names(module):
    """A package that loads its public names on first use (PEP 562): load them now, so that the pristine copies
    hold them; its submodules are left as they are."""
    if "__getattr__" not in vars(module) or not hasattr(module, "__path__"):
        return
    for attribute in getattr(module, "__all__", ()):
        if attribute not in vars(module) and importlib.util.find_spec(f"{module.__name__}.{attribute}") is None:
            getattr(module, attribute, None)


def import_quietly(name):
    """The module, its public names loaded (a package may load them lazily, PEP 562); None if it cannot import."""
    try:
        module = importlib.import_module(name)
        load_lazy_names(module)
        return module
    except Exception:  # noqa: BLE001 - a module the lab cannot import is not ours to guard
        return None


def guarded_module_names(modules):
    names = list(ALWAYS_GUARDED) + list(modules)
    for top, extras in TESTING_MODULES.items():
        if any(name == top or name.startswith(top + ".") for name in modules):
            names += extras
    return list(dict.fromkeys(names))


def infrastructure_classes(obj):
    """Classes of an IPython or ipykernel object that come from those packages."""
    return [cls for cls in type(obj).__mro__ if cls.__module__.split(".")[0] in ("IPython", "ipykernel")]


class Guard:
    """Pristine copies of what tests rely on, taken before any student code runs."""

    def __init__(self, shell, modules, bindings):
        self.shell = shell
        self.modules = {}
        for name in guarded_module_names(modules):
            module = import_quietly(name)
            if module is not None:
                self.modules[name] = module
        self.module_callables = {name: callables_of(vars(module)) for name, module in self.modules.items()}
        self.objects = [shell] + ([shell.kernel] if getattr(shell, "kernel", None) is not None else [])
        self.classes = [cls for obj in self.objects for cls in infrastructure_classes(obj)]
        tensor = getattr(self.modules.get("torch"), "Tensor", None)
        if tensor is not None:
            self.classes.append(tensor)
        self.class_callables = {cls: callables_of(vars(cls)) for cls in self.classes}
        self.class_names = {cls: set(vars(cls)) for cls in self.classes}  # what a student adds later is removed
        self.instance_attributes = {id(obj): set(vars(obj)) for obj in self.objects}
        self.shell_lists = {name: list(getattr(shell, name)) for name in SHELL_LISTS}
        self.callbacks = {event: list(funcs) for event, funcs in shell.events.callbacks.items()}
        self.pristine = dict(vars(builtins))
        for alias, module, attribute in bindings:
            value = self.resolve(module, attribute)
            if value is not MISSING:
                self.pristine[alias] = value
        self.streams = [stream for stream in (sys.stdout, sys.stderr) if belongs_to_kernel(stream)]
        self.student_state = None
        self.torch_context = None
        self.watched_cell = None
        self.events = []
        self.tampered = []

    def resolve(self, module, attribute):
        """What ``import module`` or ``from module import attribute`` binds, from the pristine copies."""
        loaded = self.modules.get(module) or import_quietly(module)
        if loaded is None:
            return MISSING
        if attribute is None:
            return loaded
        pristine = self.module_callables.get(module, {})
        return pristine.get(attribute, getattr(loaded, attribute, MISSING))

    def protect(self, names):
        """Remember what a locked cell just defined: test code reads these versions."""
        for name in names:
            if name in self.shell.user_ns:
                self.pristine[name] = self.shell.user_ns[name]

    def lookup(self, name):
        """A name as the test cell's own code reads it: the lab's version, if the notebook has bound it."""
        if name in vars(builtins) or name in self.shell.user_ns:
            return self.pristine[name]
        raise NameError(f"name {name!r} is not defined")

    def audit(self, event, args):
        """The audit hook: note watched events raised while a student's cell runs."""
        if self.watched_cell is not None and event in WATCHED_EVENTS and len(self.events) < 1000:
            self.events.append([self.watched_cell, event])

    def watch(self, cell):
        self.watched_cell = cell

    def audit_log(self):
        """The watched events seen so far, as JSON: [cell index, event name] pairs."""
        return json.dumps(self.events)

    def probe(self, thunk, seed):
        """A probe's value as JSON text (every generator seeded with ``seed``, which the grader sends with each
        probe and nothing before it; errors are answers too).

        What the test's own run may have patched (the guarded modules' functions, the guarded
        classes' attributes, added ones included) is put back first, so the value is computed
        with the lab's versions. The course helpers are imported at the first probe, not before:
        a lab without probes (or without torch) does not pay for them.
        """
        self.restore_modules()
        self.restore_classes()
        sys.settrace(None)
        sys.setprofile(None)
        with self.output_dropped():
            return importlib.import_module("vaelab.probes").evaluate(lambda: self.untampered(thunk), seed)

    @contextlib.contextmanager
    def output_dropped(self):
        """While a probe runs, what it writes or displays is dropped here in the kernel: nobody reads it, and a probe
        that floods output stays quick to interrupt (nothing piles up to be sent before the kernel can answer).
        The kernel's own streams drop writes (through any reference to them, and from the file descriptors they
        watch) and are ``sys.stdout``/``sys.stderr`` for the while; everything is given back afterwards."""
        saved = sys.stdout, sys.stderr
        publisher = getattr(self.shell, "display_pub", None)
        muted = self.streams + ([publisher] if publisher is not None else [])
        for stream in self.streams:
            stream.write = len
        if publisher is not None:
            publisher.publish = drop
        if len(self.streams) == 2:
            sys.stdout, sys.stderr = self.streams
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved
            for target in muted:
                vars(target).pop("write", None)
                vars(target).pop("publish", None)

    def untampered(self, thunk):
        """The thunk's value, unless the student's code changed what the guard keeps while it ran: then an error,
        and the change is put back before the value is encoded and noted for the report."""
        try:
            return thunk()
        finally:
            changed = self.restore_modules() + self.restore_classes()
            if changed:
                self.tampered += [name for name in changed if name not in self.tampered]
                raise RuntimeError("the notebook changed " + ", ".join(changed) + " while a hidden check ran")

    def tampering(self):
        """What student code changed while hidden checks ran, as JSON."""
        return json.dumps(self.tampered)

    def enter(self, names):
        """Put back everything guarded; return, as JSON, what the student had changed."""
        self.student_state = self.snapshot()
        repaired = self.restore_modules() + self.restore_classes() + self.restore_shell() + self.shadowed(names)
        sys.settrace(None)
        sys.setprofile(None)
        self.disable_tensor_subclasses()
        return json.dumps(repaired)

    def exit(self):
        """Give back everything the student had set, as it was before the test."""
        self.enable_tensor_subclasses()
        if self.student_state is None:
            return
        modules, module_values, class_values, lists, callbacks, custom_exceptions = self.student_state
        sys.modules.update(modules)
        for name, values in module_values.items():
            vars(self.modules[name]).update(values)
        for cls, values in class_values.items():
            for attribute, value in values.items():
                try:
                    setattr(cls, attribute, value)
                except (TypeError, AttributeError):
                    continue
            for attribute in set(vars(cls)) - set(values) - self.class_names[cls]:
                try:
                    delattr(cls, attribute)  # added during the test: not the student's state before it
                except (TypeError, AttributeError):
                    continue
        for name, items in lists.items():
            getattr(self.shell, name)[:] = items
        self.shell.events.callbacks.update(callbacks)
        self.shell.custom_exceptions = custom_exceptions
        self.student_state = None

    def snapshot(self):
        """The student's current versions of everything ``enter`` may put back."""
        modules = {name: sys.modules[name] for name in self.modules if name in sys.modules}
        module_values = {name: {a: vars(module)[a] for a in self.module_callables[name] if a in vars(module)}
                         for name, module in self.modules.items()}
        class_values = {cls: {a: value for a, value in vars(cls).items() if a in pristine or a not in self.class_names[cls]}
                        for cls, pristine in self.class_callables.items()}
        lists = {name: list(getattr(self.shell, name)) for name in SHELL_LISTS}
        callbacks = {event: list(funcs) for event, funcs in self.shell.events.callbacks.items()}
        return modules, module_values, class_values, lists, callbacks, self.shell.custom_exceptions

    def restore_modules(self):
        repaired = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                repaired.append(f"sys.modules[{name!r}]")
            namespace = vars(module)
            for attribute, value in self.module_callables[name].items():
                current = namespace.get(attribute, MISSING)
                if current is not value and not belongs_to_kernel(current) and not belongs_to_kernel(value):
                    namespace[attribute] = value
                    repaired.append(f"{name}.{attribute}")
        return repaired

    def restore_classes(self):
        repaired = []
        for cls, names in self.class_names.items():
            for attribute in set(vars(cls)) - names:
                try:
                    delattr(cls, attribute)
                except (TypeError, AttributeError):
                    continue
                repaired.append(f"{cls.__qualname__}.{attribute} (added)")
        for cls, pristine in self.class_callables.items():
            for attribute, value in pristine.items():
                if vars(cls).get(attribute, MISSING) is not value:
                    try:
                        setattr(cls, attribute, value)
                    except (TypeError, AttributeError):
                        continue
                    repaired.append(f"{cls.__qualname__}.{attribute}")
        for obj in self.objects:
            original = self.instance_attributes[id(obj)]
            added = [a for a, v in vars(obj).items() if a not in original and callable(v) and hasattr(type(obj), a)]
            for attribute in added:
                delattr(obj, attribute)
                repaired.append(f"{type(obj).__qualname__}().{attribute}")
        return repaired

    def restore_shell(self):
        shell = self.shell
        repaired = [name for name in SHELL_LISTS if list(getattr(shell, name)) != self.shell_lists[name]]
        for name, items in self.shell_lists.items():
            getattr(shell, name)[:] = items
        for event, funcs in self.callbacks.items():
            shell.events.callbacks[event] = list(funcs)
        if shell.custom_exceptions:
            repaired.append("custom exception handler")
        shell.custom_exceptions = ()
        return repaired

    def shadowed(self, names):
        """The names the test reads that the notebook binds to something other than the lab's version."""
        user_ns = self.shell.user_ns
        return [f"global {name}" for name in names
                if name in user_ns and name in self.pristine and user_ns[name] is not self.pristine[name]]

    def disable_tensor_subclasses(self):
        torch = self.modules.get("torch")
        if torch is not None:
            self.torch_context = torch._C.DisableTorchFunctionSubclass()
            self.torch_context.__enter__()

    def enable_tensor_subclasses(self):
        if self.torch_context is not None:
            self.torch_context.__exit__(None, None, None)
            self.torch_context = None


def drop(*args, **kwargs):
    """A display publisher's ``publish`` that publishes nothing."""


def install(name, modules, bindings):
    """Create the guard and hide it among the builtins under ``name``."""
    from IPython import get_ipython

    guard = Guard(get_ipython(), modules, bindings)
    setattr(builtins, name, guard)
    sys.addaudithook(guard.audit)  # cannot be removed: every student cell after this is watched
