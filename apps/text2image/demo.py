"""Demo data of the generation engine: the shipped model catalogue and a few sample prompts."""

from .services import catalogue

SAMPLE_PROMPTS = [
    ("a lighthouse on a cliff at dusk, warm light, long exposure", "blurry, low contrast"),
    ("a fox curled up in fresh snow, soft morning light", ""),
    ("an old tram crossing a bridge in the rain, reflections on the cobblestones", "oversaturated"),
    ("a bowl of ramen on a wooden table, steam rising, top view", ""),
    ("a glasshouse full of orchids, golden hour, shallow depth of field", "washed out"),
]


def seed():
    result = catalogue.load_default_models()
    yield (
        f"generation models: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
    )
    for position, (positive, negative) in enumerate(SAMPLE_PROMPTS):
        catalogue.add_sample_prompt(positive_prompt=positive, negative_prompt=negative, position=position)
    yield f"sample prompts: {len(SAMPLE_PROMPTS)} present"
    from .services.workflows import seed_demo_templates

    yield from seed_demo_templates()
    from .services.ocs import seed_demo_tasks

    yield from seed_demo_tasks()
