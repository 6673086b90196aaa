"""Reading only the records that differ between two versions of a dump file finds every key
that changed, as reading both files whole does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from elektraweb.instance.dump_delta import delta, snapshot
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.dump import DumpFormat

MOUNT = "user:/"
State = dict[str, tuple[str, dict[str, str]]]
NAMES = st.sampled_from([f"user:/app/{group}/{leaf}" for group in "abc" for leaf in "xyz"])
STATES = st.dictionaries(
    NAMES,
    st.tuples(
        st.text(max_size=8),
        st.dictionaries(st.sampled_from(["check/type", "description"]), st.text(max_size=4)),
    ),
)


def dump(state: State) -> bytes:
    keys = KeySet()
    for name, (value, meta) in state.items():
        keys.add(Key(name, value, meta))
    return DumpFormat().write(keys, MOUNT, None)


def contents(keys: KeySet) -> dict[str, tuple[object, dict[str, str]]]:
    return {key.name: (key.value, dict(key.meta)) for key in keys}


@given(STATES, STATES)
def test_the_records_that_differ_hold_every_changed_key(before: State, after: State) -> None:
    old, new = dump(before), dump(after)
    kept = snapshot(old)
    assert kept is not None
    found = delta(kept, new, MOUNT)
    assert found is not None
    was, now, next_snapshot = found
    full_before = contents(DumpFormat().read(old, MOUNT).keys)
    full_after = contents(DumpFormat().read(new, MOUNT).keys)
    changed = {
        name
        for name in full_before.keys() | full_after.keys()
        if full_before.get(name) != full_after.get(name)
    }
    assert changed <= {key.name for key in was} | {key.name for key in now}
    assert contents(was).items() <= full_before.items()
    assert contents(now).items() <= full_after.items()
    assert next_snapshot == snapshot(new)


def test_one_value_changed_in_a_big_file_reads_one_record() -> None:
    state: State = {f"user:/bench/k{index:05d}": (str(index), {}) for index in range(5000)}
    kept = snapshot(dump(state))
    assert kept is not None
    state["user:/bench/k02500"] = ("changed", {})
    found = delta(kept, dump(state), MOUNT)
    assert found is not None
    was, now, _ = found
    assert contents(was) == {"user:/bench/k02500": ("2500", {})}
    assert contents(now) == {"user:/bench/k02500": ("changed", {})}


def test_files_it_cannot_follow_are_left_to_a_full_read() -> None:
    plain = dump({"user:/a": ("1", {})})
    kept = snapshot(plain)
    assert kept is not None
    copying = b"kdbOpen 2\n$key string 1 1\na\n1\n$copymeta 1 4\nb\nmeta\n$end\n"
    assert snapshot(copying) is None
    assert delta(kept, copying, MOUNT) is None
    assert delta(kept, b"kdbOpen 1\n", MOUNT) is None
    assert delta(kept, plain[:-3], MOUNT) is None  # cut short while being written
