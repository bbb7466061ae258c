"""The app's user documentation inside Nautobot: its pages with their navigation, and their images.

Apps → Installed Apps → this app → App Documentation leads here (`docs_view_name` of the app config).
"""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import render
from nautobot.apps.ui import Breadcrumbs, ViewNameBreadcrumbItem
from nautobot.apps.views import GenericView

from nautobot_ssot_circuit_maintenance.userdocs import pages


def nav_links(entries: tuple[pages.NavEntry, ...]) -> list[dict]:
    """The navigation as the template lists it: title, page, address, and the entries of a section."""
    return [
        {
            "title": entry.title,
            "page": entry.page,
            "url": pages.page_url(entry.page) if entry.page else "",
            "children": nav_links(entry.children),
        }
        for entry in entries
    ]


class DocsPageView(GenericView):
    """One page of the documentation, rendered in Nautobot with the documentation's navigation beside it."""

    template_name = "nautobot_ssot_circuit_maintenance/docs_page.html"
    breadcrumbs = Breadcrumbs(items={"*": [ViewNameBreadcrumbItem(view_name=pages.DOCS_URL, label="Documentation")]})

    def get(self, request: HttpRequest, page: str = pages.INDEX_PAGE) -> HttpResponse:
        """The page; 404 with the navigation and a message when there is no such page."""
        context = {
            "navigation": nav_links(pages.navigation()),
            "index_url": pages.page_url(pages.INDEX_PAGE),
            "breadcrumbs": self.get_breadcrumbs(),
        }
        try:
            rendered = pages.render_page(page, pages.page_url, pages.image_url)
        except pages.NoSuchPage as error:
            context |= {"title": "Page not found", "error": str(error), "current": ""}
            return render(request, self.template_name, context, status=404)
        context |= {"title": rendered.title, "page": rendered, "current": page}
        return render(request, self.template_name, context)


class DocsImageView(GenericView):
    """An image of the documentation, by its file name in `docs/images/`; nothing else is served."""

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        """The image with its content type; a plain-text 404 for any other name (`../`, a page, a folder)."""
        try:
            path, content_type = pages.image_path(name)
        except pages.NoSuchPage as error:
            return HttpResponseNotFound(str(error), content_type="text/plain; charset=utf-8")
        response = FileResponse(path.open("rb"), content_type=content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response
