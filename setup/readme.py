"""Each addon's README.md, generated from its manifest and its readme/*.md fragments.

    .venv/bin/python setup/readme.py          # write every addons/*/README.md
    .venv/bin/python setup/readme.py --check  # exit 1 if one differs (setup/test runs it)

The fragments are the one source (as OCA's oca-gen-addon-readme, without its network
and its reStructuredText): the title is the manifest's name, the summary its summary,
then DESCRIPTION.md, and CONFIGURE.md, USAGE.md, DEVELOP.md under their own headings.

Odoo's Apps shows README.md as the module's description, read as reStructuredText by
docutils (ir.module.module's description_html), which logs a warning for each of its
complaints: a Markdown table (`| a | b |`), for one, is a broken line block and
substitutions to docutils. This script refuses such a README, when it writes and when it
checks (write lists, not tables).
"""

import argparse
import ast
import pathlib
import sys

ADDONS = pathlib.Path(__file__).resolve().parents[1] / "addons"
# Fragment → heading in README.md, in this order (None: no heading, after the summary).
SECTIONS = {
    "DESCRIPTION.md": None,
    "CONFIGURE.md": "Configuration",
    "USAGE.md": "Usage",
    "DEVELOP.md": "Development",
}


class ReadmeError(Exception):
    pass


def render(addon):
    """The README.md of the addon folder ``addon`` (a pathlib.Path)."""
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text())
    fragments = addon / "readme"
    unknown = sorted(
        path.name for path in fragments.glob("*") if path.is_file() and path.name not in SECTIONS
    )
    if unknown:
        raise ReadmeError(
            f"{addon.name}/readme: {', '.join(unknown)} would not be in README.md "
            f"(known fragments: {', '.join(SECTIONS)})"
        )
    if not (fragments / "DESCRIPTION.md").is_file():
        raise ReadmeError(f"{addon.name}/readme/DESCRIPTION.md is missing")
    summary = " ".join(manifest.get("summary", "").split())
    # No "generated" notice: Odoo shows README.md as the module's description in Apps.
    parts = [f"# {manifest['name']}"]
    if summary:
        parts.append(summary if summary.endswith(".") else f"{summary}.")
    for name, heading in SECTIONS.items():
        path = fragments / name
        if not path.is_file():
            continue
        if heading:
            parts.append(f"## {heading}")
        parts.append(path.read_text().strip("\n"))
    return "\n\n".join(parts) + "\n"


def rst_problems(text):
    """What docutils, reading ``text`` as reStructuredText as Odoo's Apps does, complains
    about: one "README.md:N: (LEVEL) message" each."""
    from docutils import nodes, utils
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser

    parser = Parser()
    settings = get_default_settings(parser)
    settings.report_level = 5  # collected below, not printed
    settings.halt_level = 5
    settings.file_insertion_enabled = False
    document = utils.new_document("README.md", settings)
    parser.parse(text, document)
    return [message.astext() for message in document.findall(nodes.system_message)]


def addons():
    return sorted(path.parent for path in ADDONS.glob("*/__manifest__.py"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a README.md differs"
    )
    args = parser.parse_args(argv)
    stale = []
    try:
        for addon in addons():
            text = render(addon)
            problems = rst_problems(text)
            if problems:
                raise ReadmeError(
                    f"{addon.name}: docutils (Odoo's Apps) reads README.md with warnings: "
                    + "; ".join(problems)
                )
            readme = addon / "README.md"
            if readme.is_file() and readme.read_text() == text:
                continue
            stale.append(addon.name)
            if not args.check:
                readme.write_text(text)
    except ReadmeError as error:
        print(f"setup/readme.py: {error}", file=sys.stderr)
        return 2
    if args.check and stale:
        print(
            "README.md differs from readme/*.md in: "
            + ", ".join(stale)
            + ". Edit the fragments, then run setup/readme.py.",
            file=sys.stderr,
        )
        return 1
    if not args.check:
        print(f"written: {', '.join(stale) or 'nothing (every README.md was current)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
