"""Runs inside the grading kernel: keeps student code from changing what the tests rely on.

The grader sends this file's source to the kernel before any student code runs, then calls
``install``. Before every test cell it calls ``enter``, which puts back what the student may
have replaced: functions and classes of the modules the lab imports (``torch.allclose``,
``math.isclose``, builtins), the names the lab's own import statements bind, functions and
classes defined by locked cells, IPython's input and AST transformers, event callbacks and
exception handlers, and the methods of the shell and kernel objects. Tensor subclasses'
``__torch_function__`` overrides are switched off while the test runs. ``exit`` gives the
student's own objects back afterwards.

This is a guard against overriding, not a security boundary: code that attacks the guard
itself (it runs in the same process) is out of its reach; the sandbox limits the damage.
"""
import builtins
import importlib
import json
import sys

MISSING = object()
ALWAYS_GUARDED = ("builtins", "math", "operator", "unittest")
TESTING_MODULES = {"torch": ("torch.testing", "torch.nn.functional"), "numpy": ("numpy.testing",)}
KERNEL_PACKAGES = ("IPython", "ipykernel", "comm", "jupyter_client", "matplotlib_inline")
SHELL_LISTS = ("ast_transformers", "input_transformers_cleanup", "input_transformers_post")


def belongs_to_kernel(value):
    """Kernel machinery swaps some builtins and hooks in and out itself: those are not the student's."""
    owner = getattr(value, "__module__", None) or type(value).__module__
    return str(owner).split(".")[0] in KERNEL_PACKAGES


def callables_of(namespace):
    """The callable entries of a module's or class's namespace."""
    return {name: value for name, value in list(namespace.items()) if callable(value)}


def import_quietly(name):
    try:
        return importlib.import_module(name)
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
        self.instance_attributes = {id(obj): set(vars(obj)) for obj in self.objects}
        self.shell_lists = {name: list(getattr(shell, name)) for name in SHELL_LISTS}
        self.callbacks = {event: list(funcs) for event, funcs in shell.events.callbacks.items()}
        self.initial_user_ns = dict(shell.user_ns)
        self.protected = {}
        for alias, module, attribute in bindings:
            value = self.resolve(module, attribute)
            if value is not MISSING:
                self.protected[alias] = value
        self.placed = {}
        self.student_state = None
        self.torch_context = None

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
        """Remember what a locked cell just defined, so later student cells cannot replace it."""
        for name in names:
            if name in self.shell.user_ns:
                self.protected[name] = self.shell.user_ns[name]

    def enter(self):
        """Put back everything guarded; return what had been changed, as JSON."""
        repaired = self.restore_modules() + self.restore_classes() + self.restore_shell() + self.clear_user_overrides()
        sys.settrace(None)
        sys.setprofile(None)
        self.disable_tensor_subclasses()
        return json.dumps(repaired)

    def exit(self):
        """Give back the student's own objects that the test cell did not replace."""
        self.enable_tensor_subclasses()
        user_ns = self.shell.user_ns
        for name, (student_value, placed_value) in self.placed.items():
            if user_ns.get(name, MISSING) is placed_value:
                if student_value is MISSING:
                    user_ns.pop(name, None)
                else:
                    user_ns[name] = student_value
        self.placed = {}
        if self.student_state is not None:
            lists, callbacks, custom_exceptions = self.student_state
            for name, items in lists.items():
                getattr(self.shell, name)[:] = items
            self.shell.events.callbacks.update(callbacks)
            self.shell.custom_exceptions = custom_exceptions
            self.student_state = None

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
        lists = {name: list(getattr(shell, name)) for name in SHELL_LISTS}
        callbacks = {event: list(funcs) for event, funcs in shell.events.callbacks.items()}
        self.student_state = (lists, callbacks, shell.custom_exceptions)
        repaired = [name for name in SHELL_LISTS if lists[name] != self.shell_lists[name]]
        for name, items in self.shell_lists.items():
            getattr(shell, name)[:] = items
        for event, funcs in self.callbacks.items():
            shell.events.callbacks[event] = list(funcs)
        if shell.custom_exceptions:
            repaired.append("custom exception handler")
        shell.custom_exceptions = ()
        return repaired

    def clear_user_overrides(self):
        """Hide student globals that shadow builtins or replace protected names."""
        user_ns = self.shell.user_ns
        pristine_builtins = self.module_callables["builtins"]
        repaired = []
        for name in list(user_ns):
            value = user_ns[name]
            shadows = name in pristine_builtins and not name.startswith("_") and callable(value)
            if shadows and self.initial_user_ns.get(name, MISSING) is not value:
                self.placed[name] = (user_ns.pop(name), MISSING)
                repaired.append(f"global {name}")
        for name, value in self.protected.items():
            current = user_ns.get(name, MISSING)
            if current is not value:
                self.placed[name] = (current, value)
                user_ns[name] = value
                repaired.append(f"global {name}")
        return repaired

    def disable_tensor_subclasses(self):
        torch = self.modules.get("torch")
        if torch is not None:
            self.torch_context = torch._C.DisableTorchFunctionSubclass()
            self.torch_context.__enter__()

    def enable_tensor_subclasses(self):
        if self.torch_context is not None:
            self.torch_context.__exit__(None, None, None)
            self.torch_context = None


def install(name, modules, bindings):
    """Create the guard and hide it among the builtins under ``name``."""
    from IPython import get_ipython

    setattr(builtins, name, Guard(get_ipython(), modules, bindings))
