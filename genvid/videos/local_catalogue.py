"""The offline renderer's built-in catalogue: four avatars (drawn at runtime from their colours, no binary
assets), four eSpeak NG voices, and what each language's voice sample says."""
from __future__ import annotations

from dataclasses import dataclass

from genvid.videos.local_media import Color
from genvid.videos.provider_contract import VoiceInfo


@dataclass(frozen=True)
class BuiltInAvatar:
    """An avatar the offline renderer draws: its colours (RGB) make the portrait."""

    id: str
    name: str
    gender: str
    backdrop: Color
    skin: Color
    hair: Color
    shirt: Color


AVATARS = (
    BuiltInAvatar("local_ada", "Ada", "female", (43, 76, 126), (241, 194, 125), (59, 42, 26), (224, 122, 95)),
    BuiltInAvatar("local_ben", "Ben", "male", (61, 90, 72), (198, 134, 66), (20, 20, 20), (70, 110, 180)),
    BuiltInAvatar("local_chen", "Chen", "female", (110, 60, 110), (255, 219, 172), (10, 10, 10),
                  (240, 200, 80)),
    BuiltInAvatar("local_dara", "Dara", "male", (90, 90, 90), (141, 85, 36), (40, 25, 15), (230, 230, 230)),
)
VOICES = (
    (VoiceInfo("local_en_f", "English (female)", "en", "female"), "en+f3"),
    (VoiceInfo("local_en_m", "English (male)", "en", "male"), "en+m3"),
    (VoiceInfo("local_fr_f", "French (female)", "fr", "female"), "fr+f2"),
    (VoiceInfo("local_es_m", "Spanish (male)", "es", "male"), "es+m3"),
)
# What a voice's sample says, by language.
SAMPLES = {"en": "Hello! This is how I sound when I read your script.",
           "fr": "Bonjour ! Voici ma voix quand je lis votre texte.",
           "es": "¡Hola! Así suena mi voz cuando leo tu guion."}
