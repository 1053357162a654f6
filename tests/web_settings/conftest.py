import pytest


@pytest.fixture
def as_user(client):
    """Sign the Django test client in as a user; returns the client."""

    def login(user):
        client.force_login(user)
        return client

    return login
