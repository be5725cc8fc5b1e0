"""OpenAPI schemas of the generation engine's payloads (Annex: Common Types), derived from the
functions that build them: ``MODEL`` (``serializers.model_payload``), ``QUEUE_LENGTH``
(``aimg.get_queues_length``), ``PROMPT`` (``serializers.prompt_payload``), ``GENERATION_STATUS``
(``serializers.generation_status_payload``, the answer of generateImage, generateVideo and
getItemStatus), ``WORKFLOW_TEMPLATE`` (``workflow_serializers.template_payload``) and
``WORKFLOW_STATE`` (``workflow_serializers.state_payload``)."""

from apps.core.api.schemas import (
    ANY,
    BOOLEAN,
    DATE_TIME,
    INTEGER,
    NUMBER,
    STRING,
    STRINGS,
    UUID,
    UUIDS,
    array,
    enum,
    nullable,
    obj,
)
from apps.items.api.schemas import MTYPE

from ..models import GenerationJob, GenerationModel, WorkflowTemplateParameter
from ..models.workflows import DEPLOYMENTS
from .workflow_serializers import STATE

# --- catalogue ------------------------------------------------------------------------------------------

MODEL = obj(
    {
        "modelID": STRING,
        "name": STRING,
        "description": STRING,
        "mediaType": enum(GenerationModel.MediaType.values),
        "minTier": INTEGER,
        "tier0Concurrent": INTEGER,
        "tier1Concurrent": INTEGER,
        "tier2Concurrent": INTEGER,
        "positiveTokens": STRINGS,
        "negativeTokens": STRINGS,
        # ImageThumbnail objects as the catalogue holds them (any strings: they are not our items).
        "sampleImages": array(obj({"imageID": STRING, "url": STRING})),
        "minSteps": INTEGER,
        "maxSteps": INTEGER,
        "allowedWidths": array(INTEGER),
        "allowedHeights": array(INTEGER),
        "maxResolution": INTEGER,
        "defaultResolution": array(INTEGER),
        "allowedSamplers": STRINGS,
        "defaultSampler": STRING,
        "minCfgScale": NUMBER,
        "maxCfgScale": NUMBER,
        "supportsVariations": BOOLEAN,
        "registrationWall": BOOLEAN,
        "defaultFaceFix": BOOLEAN,
    },
    {"wikiURL": STRING},
    description="Model",
)
MODELS = array(MODEL)

QUEUE_LENGTH = obj(
    {"modelID": STRING, "queueID": STRING, "queueLength": INTEGER},
    description="One queue of a model (two per model: the priority queue's name holds '-p1-').",
)
QUEUE_LENGTHS = array(QUEUE_LENGTH)

PROMPT = obj({"positivePrompt": STRING}, {"negativePrompt": STRING, "userID": UUID}, description="Prompt")
PROMPTS = array(PROMPT)

# --- generation -----------------------------------------------------------------------------------------

VIDEO_FRAME = obj({"frameCount": INTEGER, "frameNumber": INTEGER, "frameUrl": STRING}, description="VideoFrame")

GENERATION_STATUS = obj(
    {
        "imageID": UUID,
        "status": enum(GenerationJob.Status.values),
        "ignoredWords": STRING,
        "mtype": MTYPE,
    },
    {
        "folderID": UUID,
        "url": STRING,  # once completed
        "queuePosition": INTEGER,  # while queued
        "frames": array(VIDEO_FRAME),  # videos
    },
    description="GenerationStatus",
)

# --- API2 workflows -------------------------------------------------------------------------------------

WORKFLOW_TEMPLATE_PARAMETER = obj(
    {
        "name": STRING,
        "dataType": enum(WorkflowTemplateParameter.DataType.values),
        "description": STRING,
        "defaultValue": STRING,
        "replaceFromString": STRING,
        "isOptional": BOOLEAN,
        "optionName": STRING,
        "isAlwaysVisible": BOOLEAN,
        "isHidden": BOOLEAN,
    },
    {
        "type": STRING,
        "uiType": STRING,
        "userValue": STRING,
        "extraData": ANY,
        "min": STRING,
        "max": STRING,
        "increment": STRING,
        "fileGroup": STRING,
        "fileGroupDestination": STRING,
        "dropdownItems": STRINGS,
    },
    description="WorkflowTemplateParameter",
)

WORKFLOW_TEMPLATE = obj(
    {
        "name": STRING,
        "deployments": array(enum(DEPLOYMENTS)),
        "parameters": array(WORKFLOW_TEMPLATE_PARAMETER),
        "workflowTemplateFiles": {
            "type": "object",
            "description": "WorkflowTemplateFile objects keyed by file name.",
            "additionalProperties": obj(
                {"fileNames": STRINGS, "supportFileType": STRING}, description="WorkflowTemplateFile"
            ),
        },
    },
    description="WorkflowTemplate",
)
WORKFLOW_TEMPLATES = array(WORKFLOW_TEMPLATE)

WORKFLOW_RUN_PARAMETER = obj({"name": STRING, "value": STRING}, description="WorkflowRunParameter")

WORKFLOW_OUTPUT_FILE = obj(
    {"isMainOutput": BOOLEAN, "height": INTEGER, "width": INTEGER},
    {"note": STRING, "fileName": STRING, "downloadURL": STRING, "type": STRING},
    description="WorkflowOutputFileEntry",
)

WORKFLOW_STATE = obj(
    {
        "_id": UUID,
        "publicId": UUID,
        "runParamaters": obj(
            {
                "publicId": nullable(STRING),  # always null, as the peer answers
                "workflowTemplateName": nullable(STRING),
                "parameters": array(WORKFLOW_RUN_PARAMETER),
            }
        ),
        "isStarted": BOOLEAN,
        "isComplete": BOOLEAN,
        "isError": BOOLEAN,
        "outputFiles": array(WORKFLOW_OUTPUT_FILE),
        "log": STRINGS,
        "state": enum(sorted(set(STATE.values()))),
        "startTime": nullable(DATE_TIME),  # null until the run starts
        "endTime": nullable(DATE_TIME),  # null until it ends
        "itemIds": UUIDS,
    },
    {
        "errorMessage": STRING,  # failed or cancelled runs
        "api2userEmail": STRING,
    },
    description="WorkflowStateObject",
)
# getWorkflowStatus: one object for workflowId, an array for workflowIds.
WORKFLOW_STATUS = {"oneOf": [WORKFLOW_STATE, array(WORKFLOW_STATE)]}
