"""One file of a bulk load validated and staged in a process of its own (``bulk.validate_all``).

    python -m ringscope.ingest.validate_worker JOB ANSWER

JOB holds the pickled arguments of ``bulk._validate``; ANSWER receives ``(True, (result, staged))``
or ``(False, exception)``, so the parent raises what one process would have raised.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


def main(job: Path, answer: Path) -> int:
    from ringscope.ingest import bulk

    arguments = pickle.loads(job.read_bytes())
    try:
        outcome = (True, bulk._validate(*arguments))
    except Exception as exc:  # handed to the parent, which raises it
        outcome = (False, exc)
    answer.write_bytes(pickle.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
