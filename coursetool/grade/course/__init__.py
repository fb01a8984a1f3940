"""A class as a whole: the batch run, the cluster backend, the nbgrader gradebook and the class report."""
