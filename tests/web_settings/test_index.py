import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ALL = ["Profile", "API tokens", "Custom fields", "Users", "Background jobs"]


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("admin", ALL),
        ("manager", ["Profile", "API tokens", "Custom fields"]),
        ("member", ["Profile", "API tokens"]),
        ("viewer", ["Profile", "API tokens"]),
    ],
)
def test_index_links_what_the_role_may_use(request, as_user, persona, visible):
    client = as_user(request.getfixturevalue(persona))
    html = client.get(reverse("web:settings")).content.decode()
    for title in ALL:
        assert (f">{title}</a>" in html) == (title in visible), title


def test_index_needs_sign_in(client):
    response = client.get(reverse("web:settings"))
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_pages_have_csp_and_no_inline_script_or_style(as_user, admin):
    client = as_user(admin)
    for name in ["settings", "settings_profile", "settings_tokens", "settings_fields", "settings_users",
                 "settings_jobs", "settings_field_create", "settings_user_create", "settings_token_create"]:
        response = client.get(reverse(f"web:{name}"))
        assert response.status_code == 200, name
        assert "script-src 'self'" in response["Content-Security-Policy"]
        html = response.content.decode()
        assert "style=" not in html, name
        assert "<script>" not in html, name
        assert 'src="/static/kith/settings.js"' in html
