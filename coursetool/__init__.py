"""Course toolchain: tagged Jupytext sources -> student, solution and autograder notebooks."""
