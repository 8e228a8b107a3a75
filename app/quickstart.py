"""Help ▸ Quickstart: what DEQ Studio does and how to use each task, for someone who has never trained a network.
Shown once on the first launch, and whenever asked for."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from engine.resources import resources_dir
from engine.tasks.kinds import TASKS

PICTURE_WIDTH = 520
"""The pictures' width in the Quickstart, in pixels (as resources/generate_quickstart.py makes them)."""

HOW = {
    "fit": "Open an image, a sound, a video or a 3D shape (File ▸ Open, or drag it onto the window; File ▸ Samples "
           "has one of each). Press Start: a small network learns to reproduce it, and you watch the "
           "reconstruction sharpen beside the original, with its error and the quality (PSNR, or IoU for shapes) "
           "in the curves below. When it ends, the status bar says what the network weighs as a file and, for a "
           "picture, what JPEG gives at that size (honestly: more, so far). The network is a continuous function: "
           "File ▸ Render at another size… draws the picture at any size, the sound at any sample rate, the video at "
           "any frame rate, the shape from a finer grid; below, the fit's pixels enlarged beside the network "
           "rendered at 4 times the size.",
    "duel": "Open a file, pick Duel in the toolbar and press Start: two networks (by default the implicit "
            "Fourier-iMFN and its ordinary counterpart Fourier-MFN, of the same size) learn the same file side by "
            "side, step for step. Each learns every other pixel (or sample) and is scored on the ones it never saw: "
            "what an implicit network is good at. Under each you see its picture, its error (dark is good), its time "
            "and memory per step, and one curve each below; the line under the pictures says who leads and, after "
            "the last step, who won. On the built-in sample image the implicit one wins by about 1 dB; on smooth "
            "photographs at the paper's settings by more (2.8 dB on one of the paper's own images); on detailed, "
            "full-resolution crops it does not. Set Goal to Reproduce the file to score how well each reproduces the "
            "whole file: there the ordinary networks are as good or slightly better.",
    "restore": "Open a damaged picture, sound or video, pick Restore in the toolbar and mark what is missing where "
               "the file is shown: on a picture press Paint damage and paint over it (the right button wipes); on "
               "a sound press Select the gap and drag the shaded stretch's edges; on a video go to a lost frame and "
               "press Mark lost (and again on the last lost one). A mask made elsewhere (black where damaged) is "
               "chosen with the button in the Mask entry. Press Start: the network learns what is left and fills in "
               "the rest as it goes; the curves score it where the damage was. File ▸ Export result… saves the "
               "restored file. Measured honestly: on photographs, sounds and videos the classical tools (biharmonic "
               "inpainting, interpolation) still restore better. Any fit also renders at another size or rate "
               "(File ▸ Render at another size…), and its network is kept as a small file (network.safetensors): the "
               "status bar says what it weighs and what JPEG gives at that size, and File ▸ Open… opens it again to "
               "render it.",
    "train-prior": "Press Start to teach a network to draw handwritten digits. Its samples appear as it learns; "
                   "save the snapshot to keep it.",
    "inverse": "Restore noisy or damaged digits. Choose the noise level with the slider, or paint the part that is "
               "missing, then press Start: JIIO and the classic method race, and their losses are drawn against "
               "time.",
    "attack": "Find the smallest changes to digits that fool a classifier. Choose how large a change is allowed "
              "(ε), or draw your own digit and press Attack this digit.",
    "adv-train": "Train a digit classifier, on clean digits or on attacked ones so that it resists attacks; its "
                 "accuracy appears in the curves.",
    "meta-train": "Teach a network to learn new handwritten characters from a single example each. Every step shows "
                  "it a small task (five unseen characters, one drawing of each), JIIO tunes the network to that "
                  "task, and its guesses on further drawings are shown green when right and red when wrong; the "
                  "curves give the accuracy on characters it never trained on. When it stops, try it: ask for a "
                  "new unseen task, or draw one example of each class and a character to classify.",
}
"""One paragraph per task kind, in plain words."""


def quickstart_html() -> str:
    """The Quickstart text: the idea, then each task kind as the toolbar names it."""
    parts = ["<h2>Welcome to DEQ Studio</h2>",
             "<p>DEQ Studio trains <i>implicit networks</i>: each answer is the point where one layer, applied to "
             "its own output, stops changing. You do not need to program: pick a task in the toolbar, look at its "
             "settings on the left (each has a tooltip), and press <b>Start ▶</b> (F5). Pause, Stop and Reset are "
             "beside it; File ▸ Save Snapshot keeps a run to continue later.</p>"]
    for kind in TASKS:
        parts.append(f"<h3>{kind.title}</h3><p>{HOW.get(kind.name, kind.summary.capitalize() + '.')}</p>")
        parts += [f'<p><img src="{picture.as_uri()}" width="{shown_width(picture)}"></p>' for picture in
                  pictures(kind.name)]
    parts.append("<p>The curves at the bottom compare every run since you started (untick one to hide it). "
                 "Help ▸ Quickstart shows this again.</p>")
    return "".join(parts)


def shown_width(picture: Path) -> int:
    """The width a picture is shown at: its own, at most PICTURE_WIDTH (a narrow one, a line of the status bar, is
    not stretched)."""
    from PySide6.QtGui import QImageReader

    width = QImageReader(str(picture)).size().width()
    return min(PICTURE_WIDTH, width) if width > 0 else PICTURE_WIDTH


def pictures(kind_name: str) -> list[Path]:
    """The Quickstart's pictures of a task kind (`<kind>.jpg`, then `<kind>-<what>.jpg`), made by
    resources/generate_quickstart.py from real runs; none where they are missing."""
    folder = resources_dir() / "quickstart"
    return sorted(folder.glob(f"{kind_name}.jpg")) + sorted(folder.glob(f"{kind_name}-*.jpg"))


class Quickstart(QDialog):
    """The Quickstart in a window of its own that does not block the main one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("DEQ Studio — Quickstart")
        self.resize(PICTURE_WIDTH + 140, 720)
        text = QLabel(quickstart_html())
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setAlignment(Qt.AlignmentFlag.AlignTop)
        text.setMargin(12)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
