"""The user documentation in Nautobot: reachable from Installed Apps, pages with navigation, images, refusals."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse
from nautobot.apps.testing import TestCase

from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.userdocs import pages

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
DOCS = reverse(f"{PREFIX}:docs")


def page(name: str) -> str:
    return reverse(f"{PREFIX}:docs_page", kwargs={"page": name})


def image(name: str) -> str:
    return reverse(f"{PREFIX}:docs_image", kwargs={"name": name})


class InstalledAppDocsLinkTestCase(TestCase):
    """Apps → Installed Apps → the app: its App Documentation button is a link that answers."""

    def test_the_installed_app_page_links_the_documentation(self):
        response = self.client.get(reverse("apps:app_detail", kwargs={"app": APP_NAME}))
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        link = re.search(r'<a href="([^"]+)" class="btn btn-info">\s*<span[^>]*></span> App Documentation', body)
        self.assertIsNotNone(link, "no App Documentation button")
        self.assertEqual(link.group(1), DOCS)
        self.assertHttpStatus(self.client.get(link.group(1)), 200)


class DocsPagesTestCase(TestCase):
    """Pages render in Nautobot's layout, with the mkdocs navigation and links pointed at the app's views."""

    def test_index_has_the_navigation_of_mkdocs(self):
        response = self.client.get(DOCS)
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        self.assertIn('id="cm-docs-nav"', body)
        nav = body[body.index('id="cm-docs-nav"') : body.index('id="cm-docs-page"')]
        # Every title of mkdocs.yml's nav, in its order, each linked to its page.
        titles = [entry.title for entry in pages.navigation()]
        self.assertIn("Triage queue", titles)
        positions = [nav.index(f">{title}</a>") for title in titles]
        self.assertEqual(positions, sorted(positions))
        self.assertIn(f'href="{page("push")}"', nav)
        self.assertIn('aria-current="page"', nav)
        # The index's own links to other pages lead to the view, not to .md files.
        content = body[body.index('id="cm-docs-page"') :]
        self.assertIn(f'href="{page("reliability")}"', content)
        self.assertNotRegex(content, r'href="[^"#]*\.md')

    def test_a_page_renders_with_rewritten_links_anchors_tables_and_images(self):
        response = self.client.get(page("triage"))
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        content = body[body.index('id="cm-docs-page"') :]
        self.assertIn("<title>Triage queue", body)  # the page's own title
        self.assertIn('<table class="table', content)  # tables extension
        self.assertIn(f'href="{page("operate")}#maintenances-and-acknowledgement"', content)  # page.md#anchor
        self.assertIn(f'src="{image("triage-queue.png")}"', content)
        self.assertRegex(content, r'<h2 id="[a-z-]+">')  # toc: anchors as mkdocs makes them
        # Fenced code, also when nested in a list item, is a code block, never a run of backticks.
        push = self.client.get(page("push")).content.decode()
        self.assertIn("<pre><code>", push)
        self.assertNotIn("```", push)
        # Every item of push.md's numbered steps is an item of one list.
        steps = push[push.index('id="steps"') : push.index('id="answers"')]
        self.assertEqual(steps.count("<li>"), 4)
        self.assertEqual(steps.count("<ol>"), 1)

    def test_html_is_sanitized(self):
        cleaned = pages.sanitize('<p onclick="x()">a<script>alert(1)</script><a href="javascript:x()">b</a></p>')
        self.assertNotIn("script", cleaned)
        self.assertNotIn("onclick", cleaned)
        self.assertNotIn("javascript:", cleaned)

    def test_unknown_page_is_404_with_a_message_and_the_navigation(self):
        response = self.client.get(page("no-such-page"))
        self.assertHttpStatus(response, 404)
        self.assertContains(response, "No page named &#x27;no-such-page&#x27; in the documentation.", status_code=404)
        self.assertContains(response, 'id="cm-docs-nav"', status_code=404)

    def test_login_required(self):
        for path in (DOCS, page("triage"), image("triage-queue.png")):
            response = Client().get(path)
            self.assertHttpStatus(response, 302)
            self.assertIn("/login/", response["Location"])


class DocsImagesTestCase(TestCase):
    """Images of docs/images/ are served as what they are; nothing else is."""

    def test_an_image_is_served_with_its_content_type(self):
        response = self.client.get(image("triage-queue.png"))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response["Content-Type"], "image/png")
        self.assertEqual(b"".join(response.streaming_content)[:8], b"\x89PNG\r\n\x1a\n")

    def test_traversal_and_unknown_names_are_404(self):
        base = image("triage-queue.png").removesuffix("triage-queue.png")
        for name in (
            "../index.md",
            "../../mkdocs.yml",
            "..%2F..%2F__init__.py",
            "../../../pyproject.toml",
            "..\\index.md",
            "no-such.png",
            ".hidden.png",
            "triage-queue.png/",
        ):
            with self.subTest(name):
                response = self.client.get(base + name)
                self.assertHttpStatus(response, 404)
                self.assertNotIn(b"Circuit", response.content[:2000])  # nothing of a real file came back
