"""One Spark (local[2]) for the Spark tests, stopped at the end of the session; tests that take ``spark``
are marked ``spark`` (skip them locally with ``-m 'not spark'``; CI runs them)."""

from __future__ import annotations

import pytest

from ringscope.simulate.platform import simulate
from ringscope.spark.session import SparkSettings, spark_session, stop_session


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    settings = SparkSettings.from_env(env={"RINGSCOPE_SPARK_MASTER": "local[2]", "RINGSCOPE_SPARK_DRIVER_MEMORY": "2g",
                                           "RINGSCOPE_SPARK_SHUFFLE_PARTITIONS": "4",
                                           "RINGSCOPE_SPARK_LOCAL_DIR": str(tmp_path_factory.mktemp("spark"))})
    session = spark_session(settings)
    yield session
    stop_session()


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    """The 10,000-account simulated platform as a Parquet lake (folders of part files), made once."""
    directory = tmp_path_factory.mktemp("lake") / "platform"
    simulate(directory, accounts=10_000, seed=7, fmt="parquet")
    return directory

