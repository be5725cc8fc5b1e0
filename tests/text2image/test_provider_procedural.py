"""The procedural provider: deterministic, different for different prompts, seeds and variations,
and videos as frames plus an animated file."""

import io

from PIL import Image, ImageChops, ImageStat

from apps.text2image.providers.base import GenerationRequest
from apps.text2image.providers.procedural import ProceduralProvider


def request(**changes) -> GenerationRequest:
    values = {"job_id": "j", "model_id": "f222", "prompt": "a red fox in the snow", "seed": 42, "subseed": 7}
    values.update(changes)
    return GenerationRequest(**values)


def image(result, index=0) -> Image.Image:
    return Image.open(io.BytesIO(result.outputs[index].data)).convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference, 0 to 255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


provider = ProceduralProvider({})


def test_the_same_inputs_give_the_same_bytes():
    assert provider.generate(request()).outputs[0].data == provider.generate(request()).outputs[0].data


def test_different_prompts_look_clearly_different():
    fox, whale = image(provider.generate(request())), image(provider.generate(request(prompt="a blue whale")))
    assert difference(fox, whale) > 20


def test_seed_subseed_strength_size_and_settings_all_change_the_picture():
    base = image(provider.generate(request()))
    assert difference(base, image(provider.generate(request(seed=43)))) > 5
    assert difference(base, image(provider.generate(request(subseed=8)))) == 0  # no strength: no variation
    assert difference(base, image(provider.generate(request(subseed=8, subseed_strength=0.2)))) > 0
    assert difference(base, image(provider.generate(request(cfg_scale=2)))) > 1
    assert difference(base, image(provider.generate(request(restore_faces=True)))) > 0
    wide = image(provider.generate(request(width=768, height=512)))
    assert wide.size == (768, 512)


def test_a_batch_uses_consecutive_seeds():
    result = provider.generate(request(batch_size=2))
    assert result.info == {"all_seeds": [42, 43], "all_subseeds": [7, 8]}
    assert image(result, 1).tobytes() == image(provider.generate(request(seed=43, subseed=8))).tobytes()


def test_a_video_is_an_animated_webp_and_its_frames():
    result = provider.generate(request(media="video", frame_count=6, width=512, height=512))
    output = result.outputs[0]
    animated = Image.open(io.BytesIO(output.data))
    assert (animated.format, animated.n_frames, output.content_type) == ("WEBP", 6, "image/webp")
    assert len(output.frames) == 6
    first, second = (Image.open(io.BytesIO(frame)).convert("RGB") for frame in output.frames[:2])
    assert difference(first, second) > 0  # the shapes move


def test_expected_runtime_grows_with_steps_pixels_and_frames():
    timed = ProceduralProvider({"runtime_base_seconds": 0.1, "runtime_per_step_megapixel": 0.01})
    small = timed.expected_runtime(request(steps=10, width=512, height=512))
    assert small == 0.1 + 0.01 * 10 * 0.262144
    assert timed.expected_runtime(request(steps=20, width=512, height=512)) > small
    assert timed.expected_runtime(request(media="video", frame_count=8, steps=10)) > small
