"""The home page, in MyST markdown: what the course teaches, how to start, and every lab from its source."""
from __future__ import annotations

from coursetool.config import CourseConfig
from coursetool.render import format_points
from coursetool.site.course import LabSummary

INSTALL_NOTE = ("The helpers read a few settings: `VAELAB_QUICK=1` runs every lab on small data subsets with few "
                "epochs (well under a minute on a laptop), `VAELAB_DATA=<folder>` says where data sets go.")


def page_link(lab: LabSummary) -> str:
    """A link from the home page to the lab's page (a document link Sphinx resolves)."""
    return f"labs/{lab.name}.ipynb"


def cell_text(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


NUMBER_WORDS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")


def count_words(count: int, noun: str) -> str:
    """``Five hands-on labs``: a count that starts a sentence, spelled out where it is small."""
    number = NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)
    return f"{number} {noun}{'' if count == 1 else 's'}"


def intro(title: str, labs: list[LabSummary]) -> list[str]:
    total = sum(lab.points for lab in labs)
    return [f"# {title}", "",
            f"{count_words(len(labs), 'hands-on lab')} in PyTorch, from a first autoencoder to variational inference in "
            "practice. Each lab is a Jupyter notebook that explains an idea, derives what needs deriving, and "
            "leaves gaps for you to fill: code where it says `raise NotImplementedError(...)` or `todo(...)`, "
            "written answers where it says YOUR ANSWER HERE. A test cell under each exercise checks your code "
            "and tells you what is wrong; more tests run when your work is graded. "
            f"The labs are worth {format_points(total)} in all.", ""]


def overview(labs: list[LabSummary]) -> list[str]:
    rows = ["| Lab | Estimated time | Points |", "| --- | --- | ---: |"]
    rows += [f"| [{cell_text(lab.title)}]({page_link(lab)}) | {cell_text(lab.time) or '-'} | {lab.points:g} |"
             for lab in labs]
    return rows + [""]


def how_to_start(labs: list[LabSummary], config: CourseConfig) -> list[str]:
    folder = config.github_path.rsplit("/", 1)[-1]
    lines = ["## How to start", "", "### On Google Colab", "",
             "Press **Open in Colab** on a lab's page, or open a lab from here. The notebook's first cell "
             "installs the course helpers of this release.", ""]
    lines += [f"- [{lab.title}]({lab.colab_url})" for lab in labs]
    lines += ["", "### On your own machine", "",
              "With Python 3.10 or later, get the course at its release and install what the labs need "
              "(PyTorch, numpy, matplotlib, tqdm, Jupyter and the helpers), once:", "",
              "```bash", f"git clone --branch {config.ref} {config.repository}.git", f"cd {folder}",
              "pip install -r requirements.txt", "jupyter lab release/", "```", "",
              "With conda, `conda env create -f environment.yml` instead of the `pip` line. "
              "Each lab page also has a download link for its notebook. " + INSTALL_NOTE, ""]
    return lines


def lab_section(lab: LabSummary) -> list[str]:
    facts = [f"**Points:** {lab.points:g}"] + ([f"**Estimated time:** {lab.time}"] if lab.time else [])
    lines = [f"### {lab.title}", "", lab.summary, "", " · ".join(facts), "",
             f"[Read the lab]({page_link(lab)}) · [Open in Colab]({lab.colab_url})", ""]
    if lab.goals:
        lines += ["**Learning goals**", ""] + [f"- {goal}" for goal in lab.goals] + [""]
    if lab.exercises:
        lines += ["| Exercise | Points |", "| --- | ---: |"]
        lines += [f"| {cell_text(row.title)} | {row.points:g} |" for row in lab.exercises] + [""]
    return lines


def toctree(labs: list[LabSummary]) -> list[str]:
    return ["```{toctree}", ":hidden:", ":maxdepth: 1", ":caption: Labs", "",
            *[f"labs/{lab.name}" for lab in labs], "```", ""]


def home_markdown(title: str, labs: list[LabSummary], config: CourseConfig) -> str:
    """The whole home page."""
    lines = intro(title, labs) + overview(labs) + how_to_start(labs, config) + ["## The labs", ""]
    for lab in labs:
        lines += lab_section(lab)
    return "\n".join(lines + toctree(labs))
