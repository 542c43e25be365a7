"""Library code leaves interpreter-wide settings alone; only the program running syncs tunes them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from rostersync.demo import sample_bundle

SYNC_AS_A_LIBRARY = textwrap.dedent('''
    import csv, gc, sqlite3, sys
    from pathlib import Path

    before = (csv.field_size_limit(), gc.get_threshold(), gc.get_freeze_count(), dict(sqlite3.adapters))
    from rostersync.config import Config
    from rostersync.engine import sync_school
    from rostersync.store import store_at

    folder = Path(sys.argv[1])
    config = Config.create(folder / "rostersync.toml")
    config.add_school("lincoln", "Lincoln", ("sch-lincoln",))
    config.enable("lincoln", "csv-folder", {"path": sys.argv[2]}, None)
    config.save()
    during = []

    def progress(entity, rows):  # called while the run streams batches
        during.append((csv.field_size_limit(), gc.get_threshold(), gc.get_freeze_count(), dict(sqlite3.adapters)))

    with store_at(config.database) as store:
        [result] = sync_school(store, config.school("lincoln"), progress_for=lambda school, source: progress)
    assert result.status == "ok", result
    after = (csv.field_size_limit(), gc.get_threshold(), gc.get_freeze_count(), dict(sqlite3.adapters))
    print(len(during) > 0 and all(seen == before for seen in [*during, after]))
''')


def test_a_library_sync_changes_no_process_wide_setting(tmp_path: Path):
    result = subprocess.run([sys.executable, "-c", SYNC_AS_A_LIBRARY, str(tmp_path), str(sample_bundle())],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_the_command_line_tunes_the_process(tmp_path: Path):
    code = ("import csv, sqlite3\nfrom rostersync.cli import main\n"
            "try:\n    main(['connectors', 'list', '--json'])\nexcept SystemExit:\n    pass\n"
            "import sys\n"
            "print(csv.field_size_limit(), type(None) in {k[0] for k in sqlite3.adapters}, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().splitlines()[-1] == "1048576 True"
