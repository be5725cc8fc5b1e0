"""Signals the generation engine sends to other apps.

``generation_flagged``: a finished job whose prompt matched a "flag for review" term of the prompt
policy. Sent once per job, after its items are saved, with keyword arguments:

- ``items``: the list of ``items.Item`` the job produced (owner set, not deleted);
- ``terms``: the list of matched flag terms (strings, as written in the policy);
- ``prompt``: the raw prompt; ``filtered_prompt``: the prompt after ignored words were removed.

The reports app turns it into a system report per item in its prompt-policy queue.
"""

from django.dispatch import Signal

generation_flagged = Signal()
