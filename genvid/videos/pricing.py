"""What a render costs in credits, by one documented rule.

The rule: speech is estimated at 15 characters a second (an average speaking rate in English, about 150
words a minute), and a render costs 1 credit per started 30 seconds of estimated speech, at least 1 credit.
So up to 450 characters cost 1 credit and the longest script (5,000 characters, ~5.5 minutes) costs 12.
"""
from __future__ import annotations

import math

from genvid.videos.limits import CHARACTERS_PER_SECOND

SECONDS_PER_CREDIT = 30


def estimated_seconds(script: str) -> float:
    """Seconds of speech the script is expected to take."""
    return len(script) / CHARACTERS_PER_SECOND


def render_credits(script: str) -> int:
    """Credits a render of script costs: 1 per started 30 s of estimated speech, minimum 1."""
    return max(1, math.ceil(estimated_seconds(script) / SECONDS_PER_CREDIT))
