"""The user documentation shipped inside the package, read as Nautobot pages.

`docs/` (the Markdown mkdocs builds) and `mkdocs.yml` (its navigation) are part of the installed package
(symbolic links in the source tree, real files in a wheel: see `package-data` in pyproject.toml), so the app can
show them in Nautobot with no build step. A page is Markdown rendered by Python-Markdown (tables, fenced code,
heading anchors as mkdocs makes them), its links between pages and its images pointed at the app's own views,
and the HTML sanitized by nh3 before it is shown.

Only names found in the folder are ever opened: a page is one of the `*.md` files of `docs/`, an image one of
the files of `docs/images/`; anything else is "no such page" or "no such image", so no path from a request
reaches the file system.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - builds Python-Markdown's tree, parses nothing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import markdown
import nh3
import yaml
from django.urls import reverse
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the package: its docs/ and mkdocs.yml
DOCS_DIR = PACKAGE_DIR / "docs"
IMAGES_DIR = DOCS_DIR / "images"
MKDOCS_FILE = PACKAGE_DIR / "mkdocs.yml"
INDEX_PAGE = "index"
# Pages other pages of the app link to.
TRIAGE_PAGE = "triage"
DOCS_URL = f"{URL_NAMESPACE}:docs"
DOCS_PAGE_URL = f"{URL_NAMESPACE}:docs_page"
DOCS_IMAGE_URL = f"{URL_NAMESPACE}:docs_image"
# The images a page may show, with the type they are served as (no SVG: it can carry script).
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
PAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,100}$")
# A fence opening or closing a code block indented under a list item (`fenced_code` sees only unindented ones).
INDENTED_FENCE = re.compile(r"^(?P<indent> +)(?P<fence>`{3,}|~{3,})")
TOP_LEVEL_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})")
LIST_MARKER = re.compile(r"^(?:\d+\.|[-*+]) +(?=\S)")
# Python-Markdown nests what is indented by four spaces under a list item; the pages indent by the marker's width.
LIST_INDENT = 4

# What a rendered page may hold once sanitized: nh3's defaults, with heading anchors kept and code classes.
ALLOWED_ATTRIBUTES = {
    **{tag: set(attributes) for tag, attributes in nh3.ALLOWED_ATTRIBUTES.items()},
    **{f"h{level}": {"id"} for level in range(1, 7)},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
}
STYLED_TAGS = {"table": {"class": "table table-sm table-bordered"}, "img": {"class": "img-fluid border"}}


class NoSuchPage(LookupError):
    """The documentation has no page or image of that name."""


@dataclass(frozen=True)
class NavEntry:
    """One line of the documentation's navigation: a page with its title, or a section holding more lines."""

    title: str
    page: str = ""
    children: tuple[NavEntry, ...] = ()


@dataclass
class RenderedPage:
    """A page ready to show: its title, sanitized HTML and the headings under its title."""

    name: str
    title: str
    html: str
    headings: list[tuple[str, str]] = field(default_factory=list)


def page_url(page: str) -> str:
    """The address of a documentation page in Nautobot (the index at the documentation's own address)."""
    return reverse(DOCS_URL) if page == INDEX_PAGE else reverse(DOCS_PAGE_URL, kwargs={"page": page})


def image_url(name: str) -> str:
    """The address of an image of the documentation in Nautobot."""
    return reverse(DOCS_IMAGE_URL, kwargs={"name": name})


def page_names() -> set[str]:
    """The pages that exist: the `*.md` files of the docs folder, by name without `.md`."""
    if not DOCS_DIR.is_dir():
        return set()
    return {path.stem for path in DOCS_DIR.glob("*.md") if path.is_file() and PAGE_NAME.match(path.stem)}


def image_path(name: str) -> tuple[Path, str]:
    """The file and content type of the image `name` of `docs/images/`; NoSuchPage for any other name."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise NoSuchPage(f"No image named {name[:100]!r} in the documentation.")
    content_type = IMAGE_TYPES.get(Path(name).suffix.lower())
    found = {path.name: path for path in IMAGES_DIR.glob("*") if path.is_file()} if IMAGES_DIR.is_dir() else {}
    if content_type is None or name not in found:
        raise NoSuchPage(f"No image named {name[:100]!r} in the documentation.")
    return found[name], content_type


def _nav_entries(items: object) -> tuple[NavEntry, ...]:
    """The `nav` list of mkdocs.yml (titles mapped to files or to nested lists, or bare files) as entries."""
    entries = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            entries.append(NavEntry(title=Path(item).stem, page=Path(item).stem))
            continue
        if not isinstance(item, dict):
            continue
        for title, target in item.items():
            if isinstance(target, list):
                entries.append(NavEntry(title=str(title), children=_nav_entries(target)))
            elif isinstance(target, str) and target.endswith(".md") and "/" not in target:
                entries.append(NavEntry(title=str(title), page=target[: -len(".md")]))
    return tuple(entries)


def navigation() -> tuple[NavEntry, ...]:
    """The navigation of `mkdocs.yml`, then any page it leaves out (mkdocs builds those too)."""
    try:
        config = yaml.safe_load(MKDOCS_FILE.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    entries = _nav_entries(config.get("nav") if isinstance(config, dict) else None)
    existing = page_names()

    def listed(items: tuple[NavEntry, ...]) -> set[str]:
        return {name for entry in items for name in ({entry.page} | listed(entry.children)) if name}

    def keep(items: tuple[NavEntry, ...]) -> tuple[NavEntry, ...]:
        kept = []
        for entry in items:
            if entry.children:
                kept.append(NavEntry(title=entry.title, children=keep(entry.children)))
            elif entry.page in existing:
                kept.append(entry)
        return tuple(kept)

    others = sorted(existing - listed(entries))
    return keep(entries) + tuple(NavEntry(title=name, page=name) for name in others)


class _ListIndents(Preprocessor):
    """Blocks under list items moved from the marker's width to Python-Markdown's four spaces a level.

    The pages are written as CommonMark reads them: what belongs to `1. ` is indented by three spaces, to a
    `- ` nested in it by two more, and an item may follow its item's last paragraph directly. Python-Markdown
    (mkdocs' library too) nests only by four spaces a level and would end the list there; this re-indents each
    line to its level, keeping the code of a fenced block as it is, and puts a blank line before an item that
    follows a block of the item before.
    """

    def run(self, lines: list[str]) -> list[str]:
        """The lines, each block of a list item indented four spaces per level."""
        out: list[str] = []
        stack: list[int] = []  # the source column where the content of each open item starts
        fence, shift = "", 0
        previous_blank, item_had_blank = True, False
        for line in lines:
            indent = len(line) - len(line.lstrip(" "))
            if fence:
                if line.strip().startswith(fence) and line.strip() == fence[0] * len(line.strip()):
                    fence = ""
                out.append(" " * max(indent + shift, 0) + line.lstrip(" ") if line.strip() else line)
                continue
            if not line.strip():
                previous_blank, item_had_blank = True, item_had_blank or bool(stack)
                out.append(line)
                continue
            marker = LIST_MARKER.match(line.lstrip(" "))
            if marker is not None or previous_blank:
                while stack and indent < stack[-1]:
                    stack.pop()
            if stack:
                base = stack[-1]
                target = LIST_INDENT * len(stack) + max(indent - base, 0)
            else:
                target = indent
            if marker is not None:
                target = LIST_INDENT * len(stack)
                if item_had_blank and out and out[-1].strip():
                    out.append("")
                stack.append(indent + len(marker.group(0)))
                item_had_blank = False
            elif not stack:
                item_had_blank = False
            if (opening := TOP_LEVEL_FENCE.match(line.lstrip(" "))) is not None:
                fence, shift = opening["fence"], target - indent
            out.append(" " * target + line.lstrip(" "))
            previous_blank = False
        return out


class _NestedFences(Preprocessor):
    """Code fenced inside a list item becomes an indented code block, which Python-Markdown nests in lists.

    mkdocs' Markdown (the same library) leaves such a fence as text unless told to use pymdownx's superfences,
    which Nautobot does not install; an indented block renders the same code in the same place.
    """

    def run(self, lines: list[str]) -> list[str]:
        """The lines with each indented fenced block re-indented by four more spaces, its fences dropped."""
        out: list[str] = []
        opening = None
        for line in lines:
            found = INDENTED_FENCE.match(line)
            if opening is None and found:
                opening = found
                out.append("")
            elif opening is not None and found and line.strip() == opening["fence"][0] * len(found["fence"]):
                opening = None
                out.append("")
            elif opening is not None:
                indent = len(opening["indent"])
                body = line[indent:] if line[:indent].strip() == "" else line.lstrip()
                out.append(" " * (indent + 4) + body if body else "")
            else:
                out.append(line)
        return out


class _LinkRewriter(Treeprocessor):
    """Points links between pages, and image sources, at the app's views; drops the page's leading title."""

    def __init__(self, md: markdown.Markdown, page_url: Callable[[str], str], image_url: Callable[[str], str]):
        super().__init__(md)
        self.page_url = page_url
        self.image_url = image_url
        self.pages = page_names()
        self.title = ""

    def target(self, link: str) -> str | None:
        """Where a relative link of a page leads in Nautobot; None when it leads nowhere there."""
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or link.startswith(("/", "#")) or not link:
            return link  # absolute, or an anchor of this page: as written
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        path = parts.path.removeprefix("./")
        if path.endswith(".md") and path[: -len(".md")] in self.pages:
            return self.page_url(path[: -len(".md")]) + fragment
        if path.startswith("images/") and "/" not in path[len("images/") :]:
            return self.image_url(path[len("images/") :])
        return None

    def run(self, root: ET.Element) -> None:
        """Rewrite every `a href` and `img src`, and take the first heading out as the page's title."""
        first = next(iter(root), None)
        if first is not None and first.tag == "h1":
            self.title = "".join(first.itertext()).strip()
            root.remove(first)
        for element in root.iter():
            attribute = {"a": "href", "img": "src"}.get(element.tag)
            if attribute is None or element.get(attribute) is None:
                continue
            target = self.target(element.get(attribute, ""))
            if target is None:
                del element.attrib[attribute]  # a file outside the documentation: text, not a broken link
            else:
                element.set(attribute, target)


class _DocsLinks(Extension):
    """The Python-Markdown extension that installs `_ListIndents`, `_NestedFences` and `_LinkRewriter`."""

    def __init__(self, page_url: Callable[[str], str], image_url: Callable[[str], str]):
        super().__init__()
        self.page_url = page_url
        self.image_url = image_url
        self.rewriter: _LinkRewriter | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        """Run after the inline patterns made the links, before the tree is serialized."""
        md.preprocessors.register(_ListIndents(md), "cm_docs_list_indents", 31)
        md.preprocessors.register(_NestedFences(md), "cm_docs_nested_fences", 30)
        self.rewriter = _LinkRewriter(md, self.page_url, self.image_url)
        md.treeprocessors.register(self.rewriter, "cm_docs_links", 1)


def _headings(tokens: list[dict]) -> list[tuple[str, str]]:
    """The second-level headings of the table of contents, as (anchor, text)."""
    found = []
    for token in tokens:
        if token["level"] == 2:
            found.append((token["id"], token["name"]))
        found.extend(_headings(token.get("children", [])) if token["level"] < 2 else [])
    return found


def sanitize(html: str) -> str:
    """The HTML with nothing active left: nh3's allow-list plus heading anchors and Bootstrap classes."""
    return nh3.clean(
        html,
        attributes=ALLOWED_ATTRIBUTES,
        set_tag_attribute_values=STYLED_TAGS,
        url_schemes={"http", "https", "mailto"},
    )


def render_page(name: str, page_url: Callable[[str], str], image_url: Callable[[str], str]) -> RenderedPage:
    """The page `name` as sanitized HTML, its links made by `page_url(page)` and `image_url(image)`.

    Raises:
        NoSuchPage: the documentation has no page of that name.
    """
    if not PAGE_NAME.match(name) or name not in page_names():
        raise NoSuchPage(f"No page named {name[:100]!r} in the documentation.")
    text = (DOCS_DIR / f"{name}.md").read_text(encoding="utf-8")
    links = _DocsLinks(page_url, image_url)
    md = markdown.Markdown(extensions=["tables", "fenced_code", "toc", links])
    html = md.convert(text)
    title = links.rewriter.title if links.rewriter else ""
    return RenderedPage(name=name, title=title or name, html=sanitize(html), headings=_headings(md.toc_tokens))
