"""Members are thanked, not asked; lapsed members are invited to rejoin."""

from __future__ import annotations

from tests.factories import login, make_article, make_membership, make_user


def test_a_member_is_thanked_in_the_navigation_the_box_and_on_support(client, db):
    make_article(slug="night-trains")
    user = make_user()
    make_membership(user)
    login(client, user)
    article = client.get("/articles/night-trains").get_data(as_text=True)
    assert "Become a member" not in article
    assert "Thank you, member" in article and "Thank you for being a member" in article
    assert 'action="/support/checkout"' not in article
    support = client.get("/support?interval=month").get_data(as_text=True)
    assert "Thank you for being a member" in support
    assert 'name="interval" value="once"' in support and "Join for" not in support


def test_a_lapsed_member_is_invited_to_rejoin(client, db):
    make_article(slug="night-trains")
    user = make_user()
    make_membership(user, status="canceled")
    login(client, user)
    article = client.get("/articles/night-trains").get_data(as_text=True)
    assert ">Rejoin<" in article and "Rejoin: keep this journalism free" in article
    assert 'action="/support/checkout"' in article
    assert ">Rejoin</a>" in client.get("/account").get_data(as_text=True)


def test_a_reader_is_asked_in_place_with_frequency_and_amounts(client, db):
    make_article(slug="night-trains")
    article = client.get("/articles/night-trains").get_data(as_text=True)
    assert "Become a member" in article
    box = article.split('class="support-box"')[1]
    assert 'action="/support/checkout"' in box and 'name="article" value="night-trains"' in box
    for interval in ("month", "year", "once"):
        assert f'name="interval" value="{interval}"' in box
        assert box.count(f'name="preset_{interval}"') == 3
    assert 'name="custom_amount"' in box and "Join for $8 / month" in box
