"""The classifier's reading of a drawn digit: loaded once per classifier file, run on the CPU (one 28×28 digit is
instant)."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image


class DigitReader:
    """Class probabilities of a drawn digit under a stored classifier ("" = the built-in one)."""

    def __init__(self) -> None:
        self._loaded: tuple[str, torch.nn.Module] | None = None

    def probabilities(self, pixels: np.ndarray, classifier: str = "") -> np.ndarray:
        """(classes,) probabilities for uint8 (H, W) pixels (white strokes on black), resized to the
        classifier's input; ModelFileError / OSError when the classifier cannot be loaded."""
        from engine.models.mdeq.stored import load_classifier

        if self._loaded is None or self._loaded[0] != classifier:
            self._loaded = (classifier, load_classifier(classifier, "cpu").eval())
        model = self._loaded[1]
        size = model.image_size
        image = np.asarray(Image.fromarray(pixels, mode="L").resize((size, size), Image.BILINEAR))
        with torch.no_grad():
            logits = model(torch.from_numpy(image.astype(np.float32) / 255.0)[None, None])
        return torch.softmax(logits, dim=1)[0].numpy()
