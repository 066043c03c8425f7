import pytest


@pytest.fixture(autouse=True)
def visit_reference_data(db):
    """The season calendar and questionnaire come from a data migration; a transactional test (the
    browser tests' live server) flushes every table after it runs, so they are loaded again here."""
    from aftersales.visits.models import Season, VisitQuestion
    from aftersales.visits.reference import load_reference_data

    load_reference_data(Season, VisitQuestion)
