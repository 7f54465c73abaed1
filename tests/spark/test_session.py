"""The Spark settings are checked and named; a missing pyspark is one clear line, not a traceback."""

from __future__ import annotations

import sys

import pytest

from ringscope.common.errors import RingscopeError, SettingError
from ringscope.spark.session import SparkSettings, spark_session


def test_settings_come_from_the_environment_and_the_master_argument_wins():
    settings = SparkSettings.from_env(env={"RINGSCOPE_SPARK_MASTER": "local[4]", "RINGSCOPE_HOME": "/srv/rs"})
    assert settings == SparkSettings("local[4]", "4g", 16, "/srv/rs/spark", 10_000_000, "/srv/rs/spark-findings",
                                     "/srv/rs/spark-findings/frames")
    assert SparkSettings.from_env(env={"RINGSCOPE_SPARK_FINDINGS_DIR": "/shared/kept"}).findings_dir == "/shared/kept"
    assert SparkSettings.from_env(env={"RINGSCOPE_SPARK_DRIVER_EDGES": "5_000_000"}).driver_edges == 5_000_000
    assert SparkSettings.from_env("yarn", env={"RINGSCOPE_SPARK_MASTER": "local[4]"}).master == "yarn"
    # under spark-submit the submitted master stands unless one is given
    assert SparkSettings.from_env(env={"PYSPARK_GATEWAY_PORT": "4040"}).master is None


def test_shared_frames_are_kept_by_default_only_where_the_executors_write_the_drivers_folder():
    assert SparkSettings.from_env("yarn", env={"RINGSCOPE_HOME": "/srv/rs"}).frames_dir == ""
    assert SparkSettings.from_env(env={"PYSPARK_GATEWAY_PORT": "4040"}).frames_dir == ""
    assert SparkSettings.from_env("yarn", env={"RINGSCOPE_SPARK_FRAMES_DIR": "hdfs:///rs/frames"}
                                  ).frames_dir == "hdfs:///rs/frames"


@pytest.mark.parametrize("name, value", [("RINGSCOPE_SPARK_DRIVER_MEMORY", "lots"),
                                         ("RINGSCOPE_SPARK_SHUFFLE_PARTITIONS", "0"),
                                         ("RINGSCOPE_SPARK_DRIVER_EDGES", "0"),
                                         ("RINGSCOPE_SPARK_DRIVER_EDGES", "2M")])
def test_a_bad_setting_is_named(name, value):
    with pytest.raises(SettingError, match=name):
        SparkSettings.from_env(env={name: value})


def test_without_pyspark_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(RingscopeError, match=r"pip install 'ringscope\[spark\]'"):
        spark_session(SparkSettings.from_env(env={}))
