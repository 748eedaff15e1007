"""StateStore: atomic writes, inter-process lock, corrupt files set aside, no secrets, kill -9 safety."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from _client_helpers import SECRETS
from bwhelpers.errors import StateFileError, register_secret
from bwhelpers.state import StateFileWarning, StateStore, default_state_path

ROOT = Path(__file__).resolve().parents[1]


def test_roundtrip_profiles_and_reset(tmp_path):
    s = StateStore(tmp_path / "st" / "state.json")
    assert s.get("sandbox") == {} and s.profiles() == []
    s.update("sandbox", application={"id": "a1", "name": "Demo Server"})
    with s.transaction("real-1") as st:
        st["location"] = {"id": "9"}
    assert s.get("sandbox")["application"]["id"] == "a1"
    assert s.get("real-1")["location"] == {"id": "9"} and "updated" in s.get("real-1")
    assert s.profiles() == ["real-1", "sandbox"]
    s.reset("sandbox")
    assert s.profiles() == ["real-1"]
    s.reset()
    assert s.profiles() == []


def test_exception_in_transaction_writes_nothing(tmp_path):
    s = StateStore(tmp_path / "state.json")
    s.update("p", a=1)
    with pytest.raises(RuntimeError):
        with s.transaction("p") as st:
            st["a"] = 2
            raise RuntimeError("boom")
    assert s.get("p")["a"] == 1


def test_default_path_env_and_project_root(isolated_env, monkeypatch, tmp_path):
    assert default_state_path() == Path(os.environ["BW_STATE_FILE"])
    monkeypatch.delenv("BW_STATE_FILE")
    proj = tmp_path / "myproj"
    (proj / "notebooks").mkdir(parents=True)
    monkeypatch.chdir(proj / "notebooks")
    assert default_state_path() == proj.resolve() / ".bwhelpers" / "state.json"


def test_refuses_secret_keys_and_values(tmp_path):
    s = StateStore(tmp_path / "state.json")
    for bad in ({"password": "x"}, {"application": {"callback_password": "y"}}, {"api_token": "z"},
                {"creds": [{"Authorization": "Basic x"}]}):
        with pytest.raises(StateFileError, match="secret"):
            s.update("p", **bad)
    register_secret("hunter2-callback-pw")
    with pytest.raises(StateFileError, match="credential"):
        s.update("p", note="hunter2-callback-pw")
    assert not s.path.exists() or "hunter2" not in s.path.read_text()


def test_corrupt_file_is_preserved_and_reported(tmp_path):
    s = StateStore(tmp_path / "state.json")
    s.update("p", application={"id": "keep-me"})
    s.path.write_text('{"profiles": {"p": {"application": {"id": "keep-me"}', encoding="utf-8")  # truncated
    original = s.path.read_bytes()
    with pytest.warns(StateFileWarning, match="corrupt"):
        assert s.get("p") == {}
    kept = list(tmp_path.glob("state.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == original and s.last_corrupt == kept[0]
    # a new write works and does not touch the preserved copy
    s.update("p", location={"id": "1"})
    assert s.get("p")["location"] == {"id": "1"} and kept[0].read_bytes() == original


def test_atomic_write_leaves_no_temp_files(tmp_path):
    s = StateStore(tmp_path / "state.json")
    for i in range(20):
        s.update("p", n=i)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.lock"]
    assert json.loads(s.path.read_text())["profiles"]["p"]["n"] == 19


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from bwhelpers.state import StateStore
    s = StateStore({path!r})
    for i in range({n}):
        with s.transaction("shared") as st:
            st.setdefault("items", []).append("{{}}-{{}}".format(sys.argv[1], i))
""")


@pytest.mark.slow
def test_two_processes_writing_lose_nothing(tmp_path):
    path = tmp_path / "state.json"
    n = 40
    code = WRITER.format(root=str(ROOT), path=str(path), n=n)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(k)]) for k in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    items = StateStore(path).get("shared")["items"]
    assert len(items) == 4 * n and len(set(items)) == 4 * n


HAMMER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from bwhelpers.state import StateStore
    s = StateStore({path!r})
    i = 0
    big = "x" * 20000
    while True:
        i += 1
        with s.transaction("p") as st:
            st["counter"] = i
            st["blob"] = [big] * 20
        if i == 3:
            print("ready", flush=True)
""")


@pytest.mark.slow
def test_kill_9_mid_write_leaves_valid_file(tmp_path):
    path = tmp_path / "state.json"
    code = HAMMER.format(root=str(ROOT), path=str(path))
    for attempt in range(5):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.03 * attempt)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        data = json.loads(path.read_text())  # always complete, valid JSON
        assert data["profiles"]["p"]["counter"] >= 3
    assert not list(tmp_path.glob("state.json.corrupt-*"))


def test_state_file_never_holds_test_passwords(tmp_path):
    s = StateStore(tmp_path / "state.json")
    s.update("sandbox", application={"id": "a", "callback_url": "http://127.0.0.1:1/_sandbox/bins/x"})
    text = s.path.read_text()
    for secret in SECRETS:
        assert secret not in text


HOLDER = textwrap.dedent("""
    import sys, time, filelock
    with filelock.FileLock(sys.argv[1], timeout=5, mode=0o600):  # (as bwhelpers before 25 took it)
        print("held", flush=True)
        sys.stdin.readline()
""")


def test_a_create_step_lock_held_by_an_older_kernel_with_filelock_is_waited_for(tmp_path):
    """step_lock takes the flock filelock.FileLock took on the same file (an older bwhelpers in another kernel):
    while that kernel holds it, the step waits, and times out naming the step; once released it runs."""
    s = StateStore(tmp_path / "state.json")
    lock = tmp_path / "state.json.sandbox.application.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(StateFileError, match=r"application: another process has been running this step on "
                                                 r"profile 'sandbox' for 0\.3 s"):
            with s.step_lock("sandbox", "application", timeout=0.3):
                pass
        assert time.monotonic() - started >= 0.3
        with s.step_lock("sandbox", "location", timeout=0.3):  # another step's lock is another file
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=10)
    with s.step_lock("sandbox", "application", timeout=5):
        pass
    assert oct((tmp_path / "state.json.sandbox.location.lock").stat().st_mode & 0o777) == oct(0o600)


STEPPER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from bwhelpers.state import StateStore
    s = StateStore({path!r})
    for i in range(30):
        with s.step_lock("shared", "orders"):
            with s.edit("shared") as st:
                n = len(st.numbers)
            time.sleep(0.001)
            with s.edit("shared") as st:
                assert len(st.numbers) == n, "another process ran the step meanwhile"
                st.numbers.append("+1910555%04d" % (int(sys.argv[1]) * 100 + i))
""")


def test_a_step_lock_lets_one_process_at_a_time_run_the_step(tmp_path):
    path = tmp_path / "state.json"
    code = STEPPER.format(root=str(ROOT), path=str(path))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(k)], stderr=subprocess.PIPE, text=True)
             for k in range(3)]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    numbers = StateStore(path).saved("shared").numbers
    assert len(numbers) == 90 and len(set(numbers)) == 90


def test_two_threads_of_one_process_do_not_both_hold_a_step_lock(tmp_path):
    """Each thread reuses its own FileLock of a path (file_lock): one instance shared by two threads would let the
    second in (a FileLock is reentrant); two instances' flocks exclude each other, in one process too."""
    s = StateStore(tmp_path / "state.json")
    held, done = threading.Event(), threading.Event()

    def holder():
        with s.step_lock("sandbox", "application"):
            held.set()
            done.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(10)
        with pytest.raises(StateFileError, match="another process has been running this step"):
            with s.step_lock("sandbox", "application", timeout=0.2):
                pass
        with s.step_lock("sandbox", "location", timeout=0.2):
            pass
    finally:
        done.set()
        t.join(10)
    with s.step_lock("sandbox", "application", timeout=5):  # this thread's lock, again, once the other let go
        with s.edit("sandbox") as st:  # the state file's own lock: another file, taken inside a step's
            st.numbers.append("+19195550100")
    assert s.saved("sandbox").numbers == ["+19195550100"]


def test_a_store_write_nested_in_an_edit_on_the_same_thread_is_an_error_not_a_lost_update(tmp_path):
    """Review P5: the state file's lock is this thread's reused FileLock, which is reentrant, so a store write
    inside an edit()/transaction() on the same thread was let in and then overwritten by the outer save (the
    inner write silently lost). It is a RuntimeError naming the nested write; the outer edit, failed by it,
    writes nothing; the lock is let go (the next write goes through)."""
    s = StateStore(tmp_path / "state.json")
    s.update("sandbox", numbers=["+19195550100"])
    def edit_again() -> None:
        with s.edit("sandbox") as again:
            again.numbers.append("+19195550103")

    def transaction_again() -> None:
        with s.transaction("other") as raw:
            raw["numbers"] = ["+19195550199"]

    nested = [lambda: s.update("other", numbers=["+19195550199"]), edit_again, transaction_again,
              lambda: s.reset("other")]
    for inner in nested:
        with pytest.raises(RuntimeError, match=r"nested StateStore write"):
            with s.edit("sandbox") as st:
                st.numbers.append("+19195550101")
                inner()
        with pytest.raises(RuntimeError, match=r"nested StateStore write"):
            with s.transaction("sandbox") as raw:
                raw["numbers"] = ["+19195550102"]
                inner()
    assert s.profiles() == ["sandbox"] and s.saved("sandbox").numbers == ["+19195550100"]  # nothing half-written
    s.update("other", numbers=["+19195550199"])  # not nested: goes in, and is kept by the next edit
    with s.edit("sandbox") as st:
        st.numbers.append("+19195550101")
    assert s.profiles() == ["other", "sandbox"]
    assert s.saved("sandbox").numbers == ["+19195550100", "+19195550101"]


def test_the_state_files_lock_excludes_another_thread_and_an_older_kernels_filelock(tmp_path):
    """The state file's lock (files.file_lock, an instance of its own per thread): another thread's write waits for an
    edit in progress and neither is lost; a kernel holding the same file with filelock.FileLock (bwhelpers at
    7a8e740..d2e1850) is waited for too."""
    s = StateStore(tmp_path / "state.json")
    held, done, wrote = threading.Event(), threading.Event(), threading.Event()

    def editor():
        with s.edit("sandbox") as st:
            st.numbers.append("+19195550100")
            held.set()
            done.wait(10)

    def writer():
        s.update("other", numbers=["+19195550199"])
        wrote.set()

    threads = [threading.Thread(target=editor), threading.Thread(target=writer)]
    threads[0].start()
    assert held.wait(10)
    threads[1].start()
    try:
        assert not wrote.wait(0.3)  # waits for the edit (let in, the edit's save would drop it)
    finally:
        done.set()
        for t in threads:
            t.join(10)
    assert wrote.is_set() and s.profiles() == ["other", "sandbox"]
    assert s.saved("sandbox").numbers == ["+19195550100"] and s.saved("other").numbers == ["+19195550199"]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "state.json.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    wrote.clear()
    t = threading.Thread(target=lambda: (s.update("later", numbers=["+19195550102"]), wrote.set()))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        t.start()
        assert not wrote.wait(0.3)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=10)
        t.join(10)
    assert wrote.is_set() and s.saved("later").numbers == ["+19195550102"]


def test_the_same_step_inside_itself_on_one_thread_is_an_error(tmp_path):
    """Review P5, step_lock: the reentrant FileLock would let the same create step of the same profile in again on
    one thread (its check -> create -> save twice over: two objects); that is a RuntimeError. Another step's lock,
    and the same step of another profile, are other files and are taken inside it."""
    s = StateStore(tmp_path / "state.json")
    with s.step_lock("sandbox", "application"):
        with pytest.raises(RuntimeError, match=r"nested step lock: step 'application' of profile 'sandbox'"):
            with s.step_lock("sandbox", "application", timeout=0.2):
                pass
        with s.step_lock("sandbox", "location", timeout=0.2), s.step_lock("other", "application", timeout=0.2):
            pass
    with s.step_lock("sandbox", "application", timeout=0.2):  # let go: taken again
        pass


def test_a_thread_reuses_its_file_lock_and_a_forked_child_makes_its_own(tmp_path):
    from bwhelpers.files import file_lock

    path = tmp_path / "state.json.lock"
    mine = file_lock(path)
    assert file_lock(path) is mine
    others: list[object] = []
    t = threading.Thread(target=lambda: others.append(file_lock(path)))
    t.start()
    t.join(10)
    assert others and others[0] is not mine
    s = StateStore(tmp_path / "state.json")
    with s.edit("sandbox") as st:
        st.numbers.append("+19195550100")
    pid = os.fork()
    if pid == 0:  # the child: filelock refuses an instance inherited across fork, so it must make its own
        code = 1
        try:
            with s.step_lock("sandbox", "orders", timeout=5):
                with s.edit("sandbox") as st:
                    st.numbers.append("+19195550101")
            code = 0 if file_lock(path) is not mine else 2
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert s.saved("sandbox").numbers == ["+19195550100", "+19195550101"]
    with s.edit("sandbox") as st:  # and the parent's own is still good
        st.numbers.append("+19195550102")
