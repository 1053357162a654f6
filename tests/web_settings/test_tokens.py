import re

import pytest
from django.urls import reverse

from kith.core.models import ApiToken
from kith.core.tokens import authenticate, create_token

pytestmark = pytest.mark.django_db

LIST = reverse("web:settings_tokens")
NEW = reverse("web:settings_token_create")
SECRET_RE = re.compile(r'value="(kith_[A-Za-z0-9_-]+)"')


def revoke_url(token):
    return reverse("web:settings_token_revoke", args=[token.pk])


@pytest.mark.parametrize("persona", ["admin", "manager", "member", "viewer"])
def test_everyone_can_create_a_token_and_sees_it_once(request, as_user, persona):
    user = request.getfixturevalue(persona)
    client = as_user(user)
    assert client.get(LIST).status_code == 200

    response = client.post(NEW, {"name": "Zapier"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = SECRET_RE.search(html).group(1)
    assert "won’t be shown again" in html
    assert 'data-copy="token-secret"' in html

    token = ApiToken.objects.get()
    assert (token.user, token.name) == (user, "Zapier")
    # only the hash is stored, in no column in clear text
    assert token.key_hash == ApiToken.hash(secret) and token.key_hash != secret
    assert secret.startswith(token.hint) and len(token.hint) < len(secret) // 2
    assert all(secret not in str(v) for v in ApiToken.objects.values().get().values())
    # and it is not kept in the session either
    assert all(secret not in str(v) for v in client.session.values())
    assert authenticate(secret) == user

    for url in (LIST, NEW, revoke_url(token), reverse("web:settings")):
        again = client.get(url).content.decode()
        assert secret not in again, url
    listed = client.get(LIST).content.decode()
    assert ">Zapier</th>" in listed and f"{token.hint}…" in listed and "Active" in listed


def test_list_shows_last_use_and_revoked(as_user, member):
    client = as_user(member)
    _, secret = create_token(user=member, name="Used")
    authenticate(secret)
    gone, _ = create_token(user=member, name="Gone")
    client.post(revoke_url(gone))
    html = client.get(LIST).content.decode()
    used_row = html.split(">Used</th>")[1].split("</tr>")[0]
    gone_row = html.split(">Gone</th>")[1].split("</tr>")[0]
    assert "Never" not in used_row and "Active" in used_row
    assert "Revoked" in gone_row and "Revoke<" not in gone_row


def test_name_is_required(as_user, member):
    response = as_user(member).post(NEW, {"name": "  "})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html and 'id="id_name_error"' in html
    assert ApiToken.objects.count() == 0


def test_get_on_create_shows_the_form(as_user, viewer):
    response = as_user(viewer).get(NEW)
    assert response.status_code == 200
    assert 'for="id_name"' in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_revoke_asks_then_revokes_and_the_token_stops_working(as_user, viewer):
    client = as_user(viewer)
    token, secret = create_token(user=viewer, name="CI")
    html = client.get(revoke_url(token)).content.decode()
    assert "Revoke “CI”?" in html
    assert authenticate(secret) == viewer  # GET changed nothing
    response = client.post(revoke_url(token))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert authenticate(secret) is None
    assert "was revoked" in client.get(response["Location"]).content.decode()
    # revoking again is harmless
    assert client.post(revoke_url(token)).status_code == 302


def test_others_cannot_see_or_revoke_my_token(as_user, member, viewer, manager):
    token, secret = create_token(user=member, name="Mine")
    for other in (viewer, manager):
        client = as_user(other)
        assert client.get(revoke_url(token)).status_code == 404
        assert client.post(revoke_url(token)).status_code == 404
        assert "Mine" not in client.get(LIST).content.decode()
    assert authenticate(secret) == member


def test_non_admins_have_no_all_tokens_section(as_user, manager, member):
    create_token(user=member, name="Bobs")
    html = as_user(manager).get(LIST).content.decode()
    assert 'id="all-tokens"' not in html and "Bobs" not in html


def test_admin_sees_and_revokes_everyones_tokens(as_user, admin, member, viewer):
    bob, bob_secret = create_token(user=member, name="Bob script")
    create_token(user=viewer, name="Victor export")
    create_token(user=admin, name="Alice own")
    client = as_user(admin)
    html = client.get(LIST).content.decode()
    others = html.split('id="all-tokens"')[1]
    assert "Bob script" in others and "bob@example.com" in others and "Victor export" in others
    assert "Alice own" not in others
    confirm = client.get(revoke_url(bob)).content.decode()
    assert "Revoke “Bob script” of Bob Member?" in confirm and "bob@example.com" in confirm
    response = client.post(revoke_url(bob))
    assert response["Location"].endswith("#all-tokens")
    assert authenticate(bob_secret) is None


def test_admin_token_list_is_keyset_paged(as_user, admin, member):
    for i in range(55):
        create_token(user=member, name=f"t{i:02d}")
    client = as_user(admin)
    html = client.get(LIST).content.decode()
    def has(name, text):
        return f">{name}</th>" in text

    assert has("t54", html) and has("t05", html) and not has("t04", html)
    cursor = re.search(r'\?cursor=([^"#]+)#all-tokens">Older tokens', html).group(1)
    older = client.get(f"{LIST}?cursor={cursor}").content.decode()
    assert has("t04", older) and has("t00", older) and not has("t05", older) and "Older tokens" not in older
    assert client.get(f"{LIST}?cursor=garbage").status_code == 302
