"""The class as a whole: grading a class, its gradebook, reports, similarity and LMS files."""
