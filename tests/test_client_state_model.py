"""The typed saved state (bwhelpers.state.SavedState): attributes and derived facts, old files migrated,
corrupt files (not UTF-8, nested too deeply, wrong-typed) set aside with what was kept, symlinked files
written through to their target."""
from __future__ import annotations

import json
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

from bwhelpers import steps
from bwhelpers.state import VERSION, SavedState, StateFileWarning, StateStore

FULL = {
    "application": {"id": "app-1", "name": "Demo Server", "callback_url": "http://x/_sandbox/bins/s", "bin": "s",
                    "fields": "current", "outbound_callback_url": "http://x/_sandbox/bins/s", "outbound_bin": "s"},
    "location": {"id": "500001", "name": "loc"},
    "sms": {"location_id": "500001"}, "mms": {"location_id": "500001"},
    "assigned": {"application_id": "app-1", "location_id": "500001"},
    "orders": [{"id": "o-1", "status": "COMPLETE", "numbers": ["+19105550100"], "criteria": {"area_code": "910"}}],
    "numbers": ["+19105550100", "+19105550101"],
    "a2p": {"campaign_id": "CSBX001", "order_id": "t-1", "status": "COMPLETE",
            "numbers": ["+19105550100", "+19105550101"]},
    "messages": [{"id": "m-1", "from": "+19105550100", "to": ["+12015550100"]}, {"id": "m-2"}],
    "forms": {"application": {"name": "Demo Server"}},
    "future_step": {"future": "field of a later step"},
}


def test_attributes_and_derived_facts() -> None:
    st, problems = SavedState.parse(FULL)
    assert problems == []
    assert (st.application_id, st.location_id, st.sending_number) == ("app-1", "500001", "+19105550100")
    assert st.last_order is not None and st.last_order.id == "o-1" and st.last_message.id == "m-2"
    assert st.messages[0].from_ == "+19105550100" and st.forms["application"] == {"name": "Demo Server"}
    assert all(st.is_done(p.key) for p in steps.STEPS)
    assert st.extra == {"future_step": {"future": "field of a later step"}}  # a key this version does not know is kept
    assert SavedState.from_dict(st.to_dict()) == st and st.to_dict()["messages"][0]["from"] == "+19105550100"
    empty = SavedState()
    assert not any(empty.is_done(p.key) for p in steps.STEPS) and empty.sending_number is None
    assert empty.to_dict() == {}
    with pytest.raises(KeyError, match="no page"):
        empty.is_done("nope")


def test_order_outcomes_decide_the_status() -> None:
    failed = SavedState.from_dict({"orders": [{"id": "o-1", "status": "FAILED"}]})
    assert (failed.step_status("orders"), failed.step_status("numbers")) == ("failed", "failed")
    assert failed.detail("orders") == "o-1 (FAILED)" and not failed.is_done("orders")
    partial = SavedState.from_dict({"orders": [{"id": "o-2", "status": "PARTIAL", "numbers": ["+19105550100"]}],
                                    "numbers": ["+19105550100"]})
    assert (partial.step_status("orders"), partial.step_status("numbers")) == ("partial", "partial")
    a2p_short = SavedState.from_dict({**FULL, "a2p": {**FULL["a2p"], "numbers": ["+19105550100"]}})
    assert not a2p_short.is_done("a2p")  # a saved number is not on the campaign yet


def test_edit_writes_typed_changes_and_keeps_unknown_keys(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json")
    store.update("sandbox", future_step={"id": "x"})
    with store.edit("sandbox") as st:
        st.numbers.append("+19105550100")
    with pytest.raises(RuntimeError):
        with store.edit("sandbox") as st:
            st.numbers.clear()
            raise RuntimeError("boom")
    raw = store.get("sandbox")
    assert raw["numbers"] == ["+19105550100"] and raw["future_step"] == {"id": "x"} and "updated" in raw
    assert store.saved("sandbox").sending_number == "+19105550100"
    assert json.loads(store.path.read_text())["version"] == VERSION


def test_version_1_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 1, "profiles": {"sandbox": {
        "application": {"id": "app-old", "name": "Demo Server", "callback_url": "http://x/cb", "bin": None},
        "numbers": ["+19105550100"]}}}))
    store = StateStore(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an old file is not corrupt
        st = store.saved("sandbox")
    assert st.application is not None and st.application.fields == "legacy"  # v1 predates today's fields
    assert st.application.callback_url == "http://x/cb" and st.sending_number == "+19105550100"
    with store.edit("sandbox") as s:
        s.numbers.append("+19105550101")
    data = json.loads(path.read_text())
    assert data["version"] == VERSION and data["profiles"]["sandbox"]["application"]["fields"] == "legacy"


CORRUPT = [
    ("not UTF-8", b'{"profiles": {"sandbox": {"application": {"id": "\xff\xfe"}}}}', "not UTF-8"),
    ("deep nesting", b'{"profiles": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deeply"),
    ("profiles a list", b'{"profiles": []}', "top level"),
    ("top level a list", b"[1, 2]", "top level"),
]


@pytest.mark.parametrize("raw,reason", [c[1:] for c in CORRUPT], ids=[c[0] for c in CORRUPT])
def test_unreadable_file_is_set_aside_with_a_message(tmp_path: Path, raw: bytes, reason: str) -> None:
    store = StateStore(tmp_path / "state.json")
    store.path.write_bytes(raw)
    with pytest.warns(StateFileWarning) as caught:
        assert store.saved("sandbox") == SavedState()
    # (the state file's warning: another may be caught too, e.g. a ResourceWarning of a socket an earlier test left
    # to the garbage collector)
    message = str(next(w.message for w in caught if issubclass(w.category, StateFileWarning)))
    assert str(store.path) in message and reason in message and "kept" in message
    [kept] = tmp_path.glob("state.json.corrupt-*")
    assert kept.read_bytes() == raw and store.last_corrupt == kept
    with store.edit("sandbox") as st:  # and the next write works
        st.numbers.append("+19105550100")
    assert store.saved("sandbox").numbers == ["+19105550100"]


def test_wrong_typed_values_are_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json")
    raw = {"version": 2, "profiles": {
        "sandbox": {"application": {"id": "app-1", "name": "Demo Server"}, "orders": "o-1",
                    "numbers": ["+19105550100", {"n": 1}], "location": {"id": ["not", "an", "id"]},
                    "forms": {"messages": {"to": "+12015550100"}}},
        "real-1": {"messages": [{"id": "m-1"}], "deep": json.loads("[" * 60 + "]" * 60)}}}
    store.path.write_text(json.dumps(raw))
    with pytest.warns(StateFileWarning) as caught:
        st = store.saved("sandbox")
    message = str(next(w.message for w in caught if issubclass(w.category, StateFileWarning)))
    assert "profiles.sandbox.orders: expected a list, got str" in message
    assert "profiles.sandbox.numbers[1]: expected a string, got dict" in message
    assert "profiles.sandbox.location.id" in message and "profiles.real-1.deep: nested more than" in message
    assert "kept: real-1 (messages); sandbox (application, forms, location, numbers)" in message
    assert st.application_id == "app-1" and st.orders == [] and st.numbers == ["+19105550100"]
    assert st.location is not None and st.location.id is None and st.forms["messages"] == {"to": "+12015550100"}
    assert store.saved("real-1").last_message.id == "m-1"
    [kept] = tmp_path.glob("state.json.corrupt-*")
    assert json.loads(kept.read_text()) == raw
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # what was kept was written back: the next read is clean
        assert store.saved("sandbox").application_id == "app-1"


def test_setup_reads_a_corrupt_file_without_a_traceback(offline_config: Any, tmp_path: Path) -> None:
    from bwhelpers.setup import Setup

    store = StateStore(tmp_path / "state.json")
    store.path.write_bytes(b"\x80\x81 not json")
    setup = Setup(offline_config, store, progress=False)
    with pytest.warns(StateFileWarning, match="not UTF-8"):
        rows = setup.status()
    assert [r["status"] for r in rows] == ["pending"] * len(steps.STEPS)


def test_symlinked_state_file_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "state.json"
    real.parent.mkdir()
    link = tmp_path / "proj" / ".bwhelpers" / "state.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    via_link, direct = StateStore(link), StateStore(real)
    assert via_link.lock_path == direct.lock_path  # one lock for both names of the file

    def write(store: StateStore, tag: str) -> None:
        for i in range(25):
            with store.transaction("shared") as st:
                st.setdefault("items", []).append(f"{tag}-{i}")

    threads = [threading.Thread(target=write, args=(s, t)) for s, t in ((via_link, "link"), (direct, "real"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert link.is_symlink() and link.resolve() == real.resolve()  # still a link, not replaced by a file
    items = direct.get("shared")["items"]
    assert len(items) == 50 and len(set(items)) == 50
    assert not list(link.parent.glob("*.tmp")) and not list(real.parent.glob("*.tmp"))


def test_a_killed_writers_stale_temp_file_is_removed_by_a_later_write(tmp_path: Path) -> None:
    """A temp file left by a writer killed mid-write goes once it is stale; a fresh one (a writer still at work) stays."""
    import os
    import time

    from bwhelpers.files import STALE_TEMP_SECONDS

    path = tmp_path / "state.json"
    stale, fresh = tmp_path / ".state.json.dead.tmp", tmp_path / ".state.json.busy.tmp"
    stale.write_text("{")
    fresh.write_text("{")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    StateStore(path).update("sandbox", numbers=["+19105550100"])
    assert not stale.exists() and fresh.exists()
    assert StateStore(path).saved("sandbox").numbers == ["+19105550100"]


def test_a_byte_order_mark_is_read_not_set_aside(tmp_path: Path) -> None:
    """A state file saved by an editor that writes a UTF-8 byte order mark (Notepad) is read as it is: nothing set
    aside, its IDs kept."""
    path = tmp_path / "state.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"version": VERSION, "profiles": {"default": FULL}}).encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error", StateFileWarning)
        saved = StateStore(path).saved("default")
    assert saved.application.id == "app-1" and saved.numbers == ["+19105550100", "+19105550101"]
    assert sorted(p.name for p in tmp_path.iterdir() if "corrupt" in p.name) == []


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_state_path_that_is_no_file_is_refused_naming_the_fix(tmp_path: Path, kind: str) -> None:
    """A FIFO or a folder where the state file should be: every command says so and how to fix it, at once (a FIFO
    opened for reading would wait for a writer forever)."""
    import os
    import signal

    from bwhelpers.state import StateFileError

    path = tmp_path / "state.json"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    previous = signal.signal(signal.SIGALRM, lambda *a: pytest.fail("reading the state file hung"))
    signal.alarm(20)
    try:
        with pytest.raises(StateFileError, match="not a regular file.*BW_STATE_FILE"):
            StateStore(path).saved("default")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert (path.is_fifo() if kind == "fifo" else path.is_dir())  # left as it was


def test_a_huge_state_file_is_refused_with_the_state_file_message(tmp_path: Path) -> None:
    """rev23c C7: a 2 GB state file was read whole (a raw MemoryError, or a kernel killed for memory). Now a file
    over MAX_STATE_BYTES gets the state-file message naming the file and the fix, and is left as it was. (A sparse
    file: no disk is used.)"""
    from bwhelpers.state import MAX_STATE_BYTES, StateFileError

    path = tmp_path / "state.json"
    with path.open("wb") as fh:
        fh.truncate(2 * 1024 ** 3)
    with pytest.raises(StateFileError, match=f"{path}.*more than a state file can be.*BW_STATE_FILE"):
        StateStore(path).profiles()
    assert path.stat().st_size == 2 * 1024 ** 3 > MAX_STATE_BYTES  # left as it was


def test_a_change_inside_a_saved_object_is_written_even_without_a_stamp(tmp_path: Path) -> None:
    """The model shares the nested values (forms, criteria, extra) of the dict it is read from: a change made inside one
    of them is a change to save, also in a profile without an ``updated`` stamp (a hand-written file). (Comparing the
    model's dict with the profile as read, as af3483f did, saw no change and lost it.)"""
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": VERSION, "profiles": {"sandbox": {
        "forms": {"send": {"to": "+12015550100"}}, "orders": [{"id": "o-1", "criteria": {"area_code": "910"}}],
        "future_step": {"id": "x"}}}}))
    store = StateStore(path)
    with store.edit("sandbox") as st:
        st.forms["send"]["to"] = "+12015550101"
        assert st.orders[0].criteria is not None
        st.orders[0].criteria["area_code"] = "919"
        st.extra["future_step"]["id"] = "y"
    saved = json.loads(path.read_text())["profiles"]["sandbox"]
    assert saved["forms"]["send"]["to"] == "+12015550101" and saved["orders"][0]["criteria"] == {"area_code": "919"}
    assert saved["future_step"] == {"id": "y"} and "updated" in saved


def test_an_edit_that_changes_nothing_does_not_write(tmp_path: Path) -> None:
    """An edit whose model comes back as it was read leaves the file as it is (bytes, inode, stamp): no save, no fsync;
    a change is saved with a new stamp."""
    store = StateStore(tmp_path / "state.json")
    store.update("sandbox", **FULL)
    before, inode = store.path.read_bytes(), store.path.stat().st_ino
    with store.edit("sandbox") as st:
        st.numbers = list(st.numbers)
        st.forms = dict(st.forms)
    assert store.path.read_bytes() == before and store.path.stat().st_ino == inode
    with store.edit("sandbox") as st:
        st.numbers.append("+19105550102")
    assert store.path.stat().st_ino != inode and store.saved("sandbox").numbers[-1] == "+19105550102"


def test_a_temp_name_left_by_a_killed_process_with_this_pid_is_skipped(tmp_path: Path, monkeypatch: Any) -> None:
    """The temp file is ``.<name>.<pid>-<n>.tmp``, made exclusively: a name a killed process with the same pid left
    is not written through (nor removed while fresh); the write takes the next number."""
    import itertools
    import os

    from bwhelpers import files

    monkeypatch.setattr(files, "_SERIAL", itertools.count(7))
    left = tmp_path / f".state.json.{os.getpid()}-7.tmp"
    left.write_text("{ a killed writer's half")
    StateStore(tmp_path / "state.json").update("sandbox", numbers=["+19105550100"])
    assert left.read_text() == "{ a killed writer's half"
    assert StateStore(tmp_path / "state.json").saved("sandbox").numbers == ["+19105550100"]
    assert sorted(p.name for p in tmp_path.glob(".*.tmp")) == [left.name]
    assert oct((tmp_path / "state.json").stat().st_mode & 0o777) == oct(0o600)


def test_atomic_write_makes_a_missing_folder_with_its_mode(tmp_path: Path) -> None:
    import os

    from bwhelpers.files import atomic_write

    target = tmp_path / "new" / "deeper" / "creds.json"
    atomic_write(target, "{}\n", mode=0o644, dir_mode=0o700)
    assert target.read_text() == "{}\n" and oct(target.stat().st_mode & 0o777) == oct(0o644)
    assert oct(target.parent.stat().st_mode & 0o777) == oct(0o700 & ~_umask())
    assert os.listdir(target.parent) == ["creds.json"]


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_every_save_is_flushed_to_the_disk_before_the_rename(tmp_path: Path, monkeypatch: Any) -> None:
    """A saved ID survives a crash of the machine, not only of the kernel: each save fsyncs its temp file before the
    rename, whatever the profile is called (a sandbox's IDs too: an unflushed rename can leave an empty file, and with
    it every profile of the file; a real account may also be used under a profile named 'sandbox-1')."""
    import os

    from bwhelpers import files

    order: list[str] = []
    monkeypatch.setattr(files.os, "fsync", lambda fd: order.append("fsync") or os.fdatasync(fd))
    real_replace = files.os.replace
    monkeypatch.setattr(files.os, "replace", lambda a, b: order.append("rename") or real_replace(a, b))
    store = StateStore(tmp_path / "state.json")
    store.update("sandbox", numbers=["+19105550100"])
    with store.edit("sandbox-99200002") as st:
        st.numbers.append("+19105550101")
    with store.edit("my-profile") as st:
        st.numbers.append("+19105550104")
    assert order == ["fsync", "rename"] * 3
    assert store.saved("sandbox-99200002").numbers == ["+19105550101"]
