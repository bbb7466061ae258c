"""GraphQL types: the maintenance Note gets its own type name, apart from Nautobot's own Note."""

from nautobot.apps.graphql import OptimizedNautobotObjectType

from ..filters import NoteFilterSet
from ..models import Note


class MaintenanceNoteType(OptimizedNautobotObjectType):
    """Named apart: a generated type would be "NoteType", Nautobot's own, and take its fields."""

    class Meta:
        model = Note
        name = "MaintenanceNoteType"
        filterset_class = NoteFilterSet


graphql_types = [MaintenanceNoteType]
