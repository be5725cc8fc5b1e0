"""The diffusers provider on CPU with a tiny, randomly initialised Stable Diffusion pipeline that the
test builds and saves locally (nothing is downloaded). Skipped when the ``diffusers`` extra is absent."""

import io
import json

import pytest
from PIL import Image

from apps.text2image.providers.base import GenerationRequest, ProviderError
from apps.text2image.providers.diffusers import DiffusersProvider, installed

pytestmark = pytest.mark.skipif(
    not installed(), reason="the diffusers extra is not installed (pip install .[diffusers])"
)


def _bytes_to_unicode() -> dict:
    """CLIP's byte-to-character table (every byte has a printable stand-in)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    characters = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            characters.append(256 + extra)
            extra += 1
    return dict(zip(printable, [chr(code) for code in characters], strict=True))


def _tokenizer(directory):
    """A CLIP tokenizer whose vocabulary is every single byte (no merges): small and local."""
    from transformers import CLIPTokenizer

    symbols = list(_bytes_to_unicode().values())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for symbol in symbols:
        vocab.setdefault(symbol, len(vocab))
        vocab.setdefault(f"{symbol}</w>", len(vocab))
    (directory / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (directory / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), model_max_length=77)
    return tokenizer, len(vocab)


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tokenizer_dir = tmp_path_factory.mktemp("tokenizer")
    tokenizer, vocab_size = _tokenizer(tokenizer_dir)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        norm_num_groups=4,
        attention_head_dim=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[8, 16],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=4,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=vocab_size,
            max_position_embeddings=77,
        )
    )
    scheduler = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False)
    pipeline = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    directory = tmp_path_factory.mktemp("pipeline")
    pipeline.save_pretrained(directory)
    return directory


def _request(**changes) -> GenerationRequest:
    values = {
        "job_id": "job",
        "model_id": "tiny",
        "prompt": "a red fox",
        "negative_prompt": "blurry",
        "width": 64,
        "height": 48,
        "steps": 3,
        "cfg_scale": 5.0,
        "sampler": "Euler a",
        "seed": 1234,
        "subseed": 99,
        "batch_size": 2,
    }
    values.update(changes)
    return GenerationRequest(**values)


def test_the_real_pipeline_runs_on_cpu_and_is_deterministic(tiny_pipeline):
    provider = DiffusersProvider({"model_path": str(tiny_pipeline), "device": "cpu", "dtype": "float32"})
    assert provider.is_available()
    reported = []
    result = provider.generate(_request(), progress=lambda fraction, line: reported.append(fraction))
    assert len(result.outputs) == 2
    image = Image.open(io.BytesIO(result.outputs[0].data))
    assert (image.format, image.size) == ("PNG", (64, 48))
    assert result.info == {"all_seeds": [1234, 1235], "all_subseeds": [99, 100]}
    assert reported and reported[-1] == pytest.approx(1.0)

    again = provider.generate(_request())
    assert again.outputs[0].data == result.outputs[0].data
    other_seed = provider.generate(_request(seed=1))
    assert other_seed.outputs[0].data != result.outputs[0].data
    variation = provider.generate(_request(subseed_strength=0.5, sampler="DPM++ 2M Karras"))
    assert variation.outputs[0].data != result.outputs[0].data


def test_a_missing_pipeline_is_a_clear_provider_error(tmp_path):
    provider = DiffusersProvider({"model_path": str(tmp_path / "nothing"), "device": "cpu"})
    with pytest.raises(ProviderError) as failure:
        provider.generate(_request())
    assert "cannot be loaded" in failure.value.message
