"""Revisions identify a key's content, the same on every host."""

from __future__ import annotations

from elektraweb.wire import revision


def test_same_content_same_revision_whatever_the_meta_order() -> None:
    assert revision("8080", {"a": "1", "b": "2"}) == revision("8080", {"b": "2", "a": "1"})


def test_any_change_of_value_or_meta_changes_the_revision() -> None:
    base = revision("8080", {"check/type": "long"})
    assert revision("8081", {"check/type": "long"}) != base
    assert revision("8080", {"check/type": "short"}) != base
    assert revision("8080", {}) != base
    assert revision(None, {}) != revision("", {})


def test_revision_is_the_hash_the_protocol_document_defines() -> None:
    # sha256 of '["8080",{}]' and of '["ü",{"a":"1","b":"ß"}]' (UTF-8), first 32 hex digits.
    assert revision("8080", {}) == "30aef5e066bb3e16284a1cfb7f184344"
    assert revision("ü", {"b": "ß", "a": "1"}) == "e5773b16c62842c7730f7f0d2b6a9f1d"
