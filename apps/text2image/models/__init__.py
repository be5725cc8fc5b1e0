"""Tables of the generation engine and the OCS APIs, one module per area.

- ``catalogue``: ``GenerationModel`` (the AIMG Model object) and ``SamplePrompt``;
- ``jobs``: ``GenerationJob``, the source of truth for a generation's status;
- ``policy``: the prompt policy's term lists;
- ``workflows``: API2 workflow templates, their parameters, files and file groups;
- ``ocs``: Nextcloud text2image / textprocessing tasks.
"""

from .catalogue import *  # noqa: F403
from .jobs import *  # noqa: F403
from .ocs import *  # noqa: F403
from .policy import *  # noqa: F403
from .workflows import *  # noqa: F403
