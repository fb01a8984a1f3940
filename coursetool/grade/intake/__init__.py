"""Where submissions come from: LMS downloads, nbgrader's exchange, submission times."""
