"""What a video request may hold, and how fast a script is spoken: each stated once.

Validation (schemas.py), pricing (pricing.py), the offline renderer (local.py) and the web app's counters and
price hints (web/pages.py) all read these.
"""
from __future__ import annotations

MAX_SCRIPT = 5000                 # characters a script may have (HeyGen v3's limit for a script)
MAX_TITLE = 200                   # characters of a title
# An average English speaking rate, about 150 words a minute: what a render is priced by, and how long the
# offline renderer's silent track runs and its captions are timed when it has no speech engine.
CHARACTERS_PER_SECOND = 15
