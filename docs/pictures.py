"""Redraw the README's pictures (docs/*.png, docs/*.gif) from real runs: python docs/pictures.py

Each picture is made by relu-lab itself from a shipped config (shortened where said), then
shrunk so the repository stays small. Takes about a minute on two cores.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageSequence

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
RELU_LAB = [sys.executable, "-c", "from relu_lab.cli import run; run()"]


def relu_lab(*args: str) -> Path:
    """Run relu-lab; the last path it printed (the run directory, or the picture)."""
    out = subprocess.run([*RELU_LAB, *args], check=True, capture_output=True, text=True, cwd=ROOT)
    return Path(out.stdout.strip().splitlines()[-1])


def shrink(src: Path, name: str, width: int) -> None:
    """A copy of a PNG or GIF at `width` pixels, palette-quantised."""
    with Image.open(src) as image:
        if src.suffix == ".gif":
            frames = [f.convert("RGB") for f in ImageSequence.Iterator(image)]
            durations = [f.info.get("duration", 180) for f in ImageSequence.Iterator(image)]
            keep = sorted(set(range(0, len(frames), 2)) | {len(frames) - 1})  # every other frame, and the last
            frames, durations = [frames[i] for i in keep], [2 * durations[i] for i in keep]
            h = round(frames[0].height * width / frames[0].width)
            small = [f.resize((width, h), Image.LANCZOS).quantize(colors=64) for f in frames]
            small[0].save(DOCS / name, save_all=True, append_images=small[1:], duration=durations, loop=0,
                          optimize=True)
        else:
            h = round(image.height * width / image.width)
            image.convert("RGB").resize((width, h), Image.LANCZOS).quantize(colors=256).save(DOCS / name,
                                                                                             optimize=True)
    print(f"{name}: {(DOCS / name).stat().st_size // 1024} KB")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        circle = relu_lab("train", "configs/seed004_circle.yaml", "--set", "train.phases.0.epochs=30",
                          "--set", "train.phases.1.epochs=70", "--out", tmp, "--quiet")
        shrink(circle / "units.png", "units.png", 1100)
        shrink(circle / "units_raster.png", "units_raster.png", 800)
        relu_lab("plot", str(circle), "--animate", "training")
        shrink(circle / "training.gif", "training.gif", 560)
        grid = relu_lab("sweep", "configs/xor_relu.yaml", "--lr", "0.03,0.1,0.3,1", "--param",
                        "model.init_scale=0.1,0.3,1,3", "--seeds", "16", "--set", "train.epochs=300", "--out", tmp,
                        "--quiet")
        shrink(grid / "sweep_heatmap.png", "sweep_heatmap.png", 640)


if __name__ == "__main__":
    main()
