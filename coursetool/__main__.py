"""``python -m coursetool``: the course tools' command line."""
import sys

# jsonschema (which nbformat imports) compiles an IRI grammar at import when the optional rfc3987_syntax is installed:
# a second at every start. No schema nbformat or nbgrader checks has an IRI format, so the tools go without it.
sys.modules.setdefault("rfc3987_syntax", None)

from coursetool.cli import main  # noqa: E402

sys.exit(main())
