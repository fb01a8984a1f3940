"""One notebook graded: the instructor's cells restored, run, scrutinised, scored and given feedback."""
