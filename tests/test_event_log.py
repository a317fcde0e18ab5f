"""The embedded instance's event log (orchestration/services/event_log.py): Dagster's SQLite
files under the instance, written through pooled connections, read by another instance."""

import dagster as dg

from orchestration.services.event_log import PooledSqliteEventLogStorage
from orchestration.services.instance import instance_yaml


@dg.asset
def one() -> int:
    return 1


def test_runs_and_events_land_in_the_instance_files_and_another_instance_reads_them(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml("embedded", home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        result = dg.materialize([one], instance=instance)
        assert result.success
    assert (home / "history" / "runs" / f"{result.run_id}.db").is_file()
    with dg.DagsterInstance.from_config(str(home)) as reader:
        assert reader.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        event = reader.get_latest_materialization_event(dg.AssetKey("one"))
        assert event is not None and event.run_id == result.run_id
        reader.wipe()  # the run's file is removed though the storage had it open
    assert not (home / "history" / "runs" / f"{result.run_id}.db").exists()
