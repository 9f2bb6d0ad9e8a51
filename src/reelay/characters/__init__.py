"""Characters (``client.videos.create_character`` / ``get_character``): a person or object taken from
an uploaded video, reused in later generations.

A character is stored as objects, not rows: ``characters/<id>/character.json`` (who owns it, its
name) and ``frame-<n>.jpg``, stills taken evenly across the video. A generation names characters in
``characters`` (ids); ``reelay.characters.apply`` turns them into ``input_reference`` images: all of
them as references on a model that takes several (xAI's reference-to-video), else the first still as
the first frame (the local engine and other image-to-video models).
"""

from reelay.characters.store import Character, CharacterStore

__all__ = ["Character", "CharacterStore"]
