"""UI: a table panel whose rows are not one filter of the page's object."""

from __future__ import annotations

from typing import Any

# -- UI: a table panel whose rows are not one filter of the page's object -----------------------------


def has_table_queryset_hook() -> bool:
    """Nautobot 3.2's `ObjectsTablePanel.get_table_data_queryset(instance, request)`: the panel's base rows."""
    from nautobot.apps.ui import ObjectsTablePanel

    return hasattr(ObjectsTablePanel, "get_table_data_queryset")


class _WithRows:
    """The page's object, plus the rows of one table panel under `TableRowsPanelMixin.ROWS_ATTRIBUTE`."""

    def __init__(self, instance: Any, rows: Any) -> None:
        self._instance = instance
        self.compat_table_rows = rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instance, name)


class TableRowsPanelMixin:
    """Put before `ObjectsTablePanel` and define `get_table_data_queryset(instance, request)` (the rows, unrestricted).

    Nautobot 3.2 calls that method itself. Nautobot 3.0 and 3.1 only filter the table's model by
    `table_filter=<the page's object>` or read `table_attribute` of the object: there the panel reads
    `table_attribute` of a stand-in for the object that carries the rows. Pass `related_field_name` for
    the panel's "all" link, as `table_filter` is set aside on those releases.
    """

    ROWS_ATTRIBUTE = "compat_table_rows"

    def __init__(self, **kwargs: Any) -> None:
        """On Nautobot 3.0 and 3.1, read the rows from the stand-in's attribute instead of `table_filter`."""
        if not has_table_queryset_hook():
            kwargs.pop("table_filter", None)
            kwargs["table_attribute"] = self.ROWS_ATTRIBUTE
        super().__init__(**kwargs)

    def get_extra_context(self, context: Any) -> Any:
        """On Nautobot 3.0 and 3.1, render the panel against a stand-in object that carries the rows."""
        if has_table_queryset_hook():
            return super().get_extra_context(context)
        from nautobot.apps.views import get_obj_from_context

        instance = get_obj_from_context(context)
        stand_in = _WithRows(instance, self.get_table_data_queryset(instance, context["request"]))
        with context.update({"obj": stand_in, "object": stand_in}):
            return super().get_extra_context(context)
