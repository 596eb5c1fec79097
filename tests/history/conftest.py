"""The history page's sandboxes: the promotion tests' three releases of the digits example (copied, not trained)
and the bring-your-own regression pipeline (tests/byop)."""

from tests.byop.conftest import byop, byop_origin  # noqa: F401
from tests.promotion.conftest import released, three_releases  # noqa: F401
