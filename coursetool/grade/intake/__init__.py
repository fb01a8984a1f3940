"""Taking a class's work in: the submissions found, their ids and times, late penalties."""
