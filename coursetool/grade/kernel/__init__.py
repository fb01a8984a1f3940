"""The kernel layer, sealed: given a ``RunSpec`` and a notebook, it runs the notebook in a limited, sandboxed kernel
and hands back what the cells did. It imports nothing of ``notebook`` or ``course``."""
