"""Reading the pipeline's own intermediate tables with the dtypes they were written with."""

from __future__ import annotations

import pandas as pd

# IDs and labels stay strings (sub-01 must not become a number, "1" periods stay labels).
STRING_COLUMNS = {"participant_id": str, "condition": str, "timepoint": str, "scale": str, "outcome": str,
                  "sex": str, "order": str, "flags": str, "excluded_by": str}


def read_table(path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", dtype=STRING_COLUMNS, na_values=["NA"], keep_default_na=False)
    for column in ("flags", "excluded_by"):
        if column in frame:
            frame[column] = frame[column].fillna("")
    return frame
