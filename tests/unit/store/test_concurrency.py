"""Several processes and threads writing and reading at once never corrupt the store or lose a row."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kernelwright.store import Store, store_path
from kernelwright.store.database import builtin_migrations, connect
from support.measurements import measurement

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

WRITER = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from support.measurements import measurement
from kernelwright.store import Store
worker, rows = int(sys.argv[1]), int(sys.argv[2])
with Store(Path({path!r})) as store:
    for i in range(rows):
        store.record_measurement(f"/w/p{{worker}}.py", measurement(source_hash=f"w{{worker}}-{{i}}"))
        # Read while others write: every earlier row of this worker must be visible.
        assert len(store.history(f"/w/p{{worker}}.py", "Model", limit=1000)) == i + 1
print("ok")
"""


def test_processes_write_and_read_concurrently(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    Store(path).close()  # created and migrated once; the writers open it concurrently
    tests_dir = str(Path(__file__).resolve().parents[2])
    script = WRITER.format(tests=tests_dir, path=str(path))
    workers, rows = 4, 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(w), str(rows)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    conn = connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM measurements").fetchone()[0] == workers * rows
    conn.close()


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    script = (
        "import sys; from pathlib import Path; from kernelwright.store import Store; "
        f"s = Store(Path({str(path)!r})); print(s._read('SELECT MAX(version) FROM schema_version')[0][0]); "
        "s.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == str(len(builtin_migrations()))
    conn = connect(path)
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
    assert versions == list(range(1, len(builtin_migrations()) + 1))
    conn.close()


def test_threads_share_one_store(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    with Store(store_path(tmp_path)) as store:

        def work(n: int) -> None:
            try:
                for i in range(50):
                    store.record_measurement("/w/t.py", measurement(symbol=f"s{n}", source_hash=f"{n}-{i}"))
                    store.history("/w/t.py", f"s{n}")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors
        assert sum(len(store.history("/w/t.py", f"s{n}", limit=1000)) for n in range(4)) == 200
