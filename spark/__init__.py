"""The Spark engine: whole-platform detection on Apache Spark over the platform's Parquet dataset (#16).

``ringscope detect --engine spark --source PATH`` reads the dataset (the input
format as Parquet, local or ``hdfs://``/``s3a://``) with Spark, runs the
whole-platform stages of each detector ported here as DataFrame jobs (the
joins, groupings and connected components whose work grows with the
platform), and scores each candidate group on the executors with the same
pure functions of ``ringscope.detection`` that the local engine runs, so
there is one definition of what a detector finds. The run is stored through
``ringscope.detection.run`` exactly as a local run.

- ``session``: the SparkSession from the environment (``RINGSCOPE_SPARK_*``).
- ``source``: the dataset's kinds as DataFrames, with the input format's columns.
- ``components``: connected components by large-star/small-star (Kiveris et al. 2014).
- ``shared_infrastructure``: that detector's whole-platform stages on Spark.
- ``engine``: which detectors run on Spark, and the engine ``detection.run`` drives.
"""
