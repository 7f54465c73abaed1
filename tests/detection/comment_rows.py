"""Comment frames for the text detectors' tests."""

import pandas as pd


def comment_frame(rows):
    """Rows of (comment_id, account_id, note_id, text, reply_to) as a comments frame."""
    return pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "text", "reply_to"])
