"""Batch personalised videos: one template (a script with {{variables}}) rendered once per row of a CSV or
JSON list; every row is an ordinary video, the whole batch is paid for at once."""
