

def as_parquet(out_dir, names) -> None:
    """Rewrite the converted ``<name>.csv`` files of ``out_dir`` as ``<name>.parquet`` (the layout the Spark
    engine and the bulk load both read): every value as the text the CSV holds, an empty field as a
    missing value, as the CSV reader takes it. O(rows)."""
    from pathlib import Path

    import pandas as pd

    for name in names:
        csv_path = Path(out_dir) / f"{name}.csv"
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, na_values=[""])
        frame.to_parquet(csv_path.with_suffix(".parquet"), index=False)
        csv_path.unlink()
