"""The audio view: target and reconstruction waveforms overlaid, the reconstruction's spectrogram, and playback.

Waveforms arrive as float32 (T,) arrays in [−1, 1] with their sample rate. The spectrogram is a Hann-windowed STFT
magnitude in dB (numpy only), redrawn with fixed levels so frames do not flicker. Play uses PortAudio (sounddevice)
where an output device exists; elsewhere the buttons are disabled and say why.

For a restore the view offers "Select the gap" (`set_gap_selection`): a shaded stretch over the waveform whose
edges are dragged; `gap_selected` says where it lies (seconds of the clip shown), None when cleared.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.views.image_view import pg  # noqa: F811  (shared pyqtgraph configuration)

from app.views.registry import ReconstructionPreviews, register_view
from engine.tasks.base import Targets

MAX_POINTS = 20_000
"""Waveform points drawn (peak-downsampled beyond this)."""


def stft_magnitude(wave: np.ndarray, window: int = 512, hop: int = 128) -> np.ndarray:
    """(frames, frequencies) magnitudes of the Hann-windowed STFT."""
    if wave.size < window:
        wave = np.pad(wave, (0, window - wave.size))
    frames = 1 + (wave.size - window) // hop
    index = np.arange(window)[None, :] + hop * np.arange(frames)[:, None]
    return np.abs(np.fft.rfft(wave[index] * np.hanning(window)[None, :], axis=1))


def spectrogram(wave: np.ndarray, window: int = 512, hop: int = 128) -> np.ndarray:
    """(frequencies, frames) magnitude in dB, floor −80 dB relative to the peak."""
    db = 20 * np.log10(stft_magnitude(wave, window, hop) + 1e-9)
    return np.maximum(db - db.max(), -80.0).T.astype(np.float32)


def output_device_problem() -> str | None:
    """None when audio can be played here, else why not (no PortAudio, no output device)."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        return f"audio playback needs PortAudio ({exc})"
    try:
        sounddevice.query_devices(kind="output")
    except (sounddevice.PortAudioError, ValueError) as exc:
        return f"no audio output device ({exc})"
    return None


@register_view("audio")
class AudioView(ReconstructionPreviews, QWidget):
    """Waveforms (target grey, reconstruction coloured) above the reconstruction's spectrogram."""

    gap_selected = Signal(object)
    """(from, to) in seconds of the clip shown, after the gap is selected or moved; None when it is cleared."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.wave_plot = pg.PlotWidget(title="Waveform (target grey, reconstruction red)")
        self.wave_plot.setYRange(-1, 1)
        self.target_line = self.wave_plot.plot(pen=pg.mkPen("#888888"))
        self.recon_line = self.wave_plot.plot(pen=pg.mkPen("#d62728"))
        for line in (self.target_line, self.recon_line):
            line.setClipToView(True)
            line.setDownsampling(auto=True, method="peak")
        self.spec_canvas = pg.GraphicsLayoutWidget()
        self.spec_plot = self.spec_canvas.addPlot(title="Spectrogram of the target")
        self.spec_plot.setLabel("bottom", "time (s)")
        self.spec_plot.setLabel("left", "frequency (Hz)")
        self.spec_plot.setMenuEnabled(False)
        self.spec_item = pg.ImageItem()
        colours = pg.colormap.get("viridis")
        self.spec_item.setColorMap(colours)
        self.spec_plot.addItem(self.spec_item)
        self.spec_bar = pg.ColorBarItem(values=(-80, 0), colorMap=colours, width=12, label="dB",
                                        interactive=False, colorMapMenu=False)
        self.spec_canvas.addItem(self.spec_bar)
        controls = QHBoxLayout()
        self.play_buttons = {}
        for key, text in (("target", "Play target"), ("reconstruction", "Play reconstruction")):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, k=key: self.play(k))
            controls.addWidget(button)
            self.play_buttons[key] = button
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        controls.addWidget(self.stop_button)
        controls.addStretch(1)
        for widget in self._gap_controls():
            controls.addWidget(widget)
        self.rate = 1.0
        self.target: np.ndarray | None = None
        self.reconstruction: np.ndarray | None = None
        self.notice = QLabel()
        """What a listener should know: which part of the file is learnt, and why Play is off."""
        self.notice.setWordWrap(True)
        self.notice.setObjectName("hint")
        self.portion = ""
        self.playback_problem: str | None = "no clip yet"
        self._probed = False  # PortAudio is started when the first clip arrives, not with the window
        self._enable_playback()
        layout.addLayout(controls)
        layout.addWidget(self.notice)
        layout.addWidget(self.wave_plot, 1)
        layout.addWidget(self.spec_canvas, 1)

    def _gap_controls(self) -> tuple[QWidget, ...]:
        """Select the gap, Clear gap, and the shaded stretch: hidden until a restore asks for them."""
        self.gap_region = pg.LinearRegionItem(brush=pg.mkBrush(255, 48, 48, 60), pen=pg.mkPen("#ff3030"))
        self.gap_region.setZValue(-5)
        self.gap_region.hide()
        self.gap_region.sigRegionChangeFinished.connect(lambda _: self.gap_selected.emit(self.gap()))
        self.wave_plot.addItem(self.gap_region)
        self.select_gap = QPushButton("Select the gap")
        self.select_gap.setToolTip("Mark the stretch that is missing: a shaded band appears over the waveform; drag "
                                   "its edges (zoom with the wheel for a short gap). Start fills it in.")
        self.select_gap.clicked.connect(self._new_gap)
        self.clear_gap = QPushButton("Clear gap")
        self.clear_gap.clicked.connect(self._clear_gap)
        self.gap_widgets = (self.select_gap, self.clear_gap)
        for widget in self.gap_widgets:
            widget.hide()
        return self.gap_widgets

    def gap(self) -> tuple[float, float] | None:
        """The selected gap, (from, to) in seconds of the clip shown; None when none is."""
        return tuple(float(t) for t in self.gap_region.getRegion()) if self.gap_region.isVisible() else None

    def set_gap_selection(self, available: bool, gap: tuple[float, float] | None = None) -> None:
        """Offer selecting the gap (a restore of a sound) with `gap` shown, or take the offer away."""
        for widget in self.gap_widgets:
            widget.setVisible(available)
        if gap is not None:
            self.gap_region.blockSignals(True)
            self.gap_region.setRegion(gap)
            self.gap_region.blockSignals(False)
        self.gap_region.setVisible(available and gap is not None)

    def _new_gap(self) -> None:
        """A gap of a fiftieth of the view (at least 2 ms) at its middle, or the one shown, moved there."""
        (left, right), _ = self.wave_plot.viewRange()
        if self.target is not None:
            left, right = max(left, 0.0), min(right, self.target.size / self.rate)
        width = max((right - left) / 50, 0.002)
        middle = (left + right) / 2
        self.gap_region.setVisible(True)
        self.gap_region.setRegion((middle - width / 2, middle + width / 2))  # emits gap_selected

    def _clear_gap(self) -> None:
        self.gap_region.hide()
        self.gap_selected.emit(None)

    def _enable_playback(self) -> None:
        for button in (*self.play_buttons.values(), self.stop_button):
            button.setEnabled(self.playback_problem is None)
            button.setToolTip(self.playback_problem or "")
        self._say()

    def _say(self) -> None:
        lines = []
        if self.portion:
            lines.append(f"Learning {self.portion} s (raise Audio duration s in Settings to learn more; slower).")
        if self.playback_problem is not None and self.target is not None:
            lines.append(f"Play is off: {self.playback_problem}.")
        self.notice.setText("\n".join(lines))
        self.notice.setVisible(bool(lines))

    def show_target(self, targets: Targets) -> None:
        self.set_target(targets.arrays["signal"], targets.rate or 1.0, targets.portion)

    def set_target(self, wave: np.ndarray, rate: float, portion: str = "") -> None:
        self.target, self.rate, self.reconstruction, self.portion = wave, rate, None, portion
        if not self._probed:
            self._probed = True
            self.playback_problem = output_device_problem()
        self._enable_playback()
        self.target_line.setData(np.arange(wave.size) / rate, wave)
        self.recon_line.setData([], [])
        self._show_spectrogram(wave, "target")

    def set_reconstruction(self, wave: np.ndarray) -> None:
        self.reconstruction = wave
        self.recon_line.setData(np.arange(wave.size) / self.rate, wave)
        self._show_spectrogram(wave, "reconstruction")

    def _show_spectrogram(self, wave: np.ndarray, which: str) -> None:
        """The STFT magnitude of `wave` on axes in seconds and hertz (0 Hz at the bottom)."""
        self.spec_item.setImage(spectrogram(wave), levels=(-80, 0))
        self.spec_item.setRect(QRectF(0.0, 0.0, max(wave.size, 1) / self.rate, self.rate / 2))
        self.spec_plot.setTitle(f"Spectrogram of the {which}")
        self.spec_plot.autoRange(padding=0)

    def play(self, which: str) -> bool:
        """Play the target or the reconstruction (non-blocking); False when there is nothing to play or no device."""
        wave = self.target if which == "target" else self.reconstruction
        if wave is None or self.playback_problem is not None:
            return False
        import sounddevice

        try:
            sounddevice.play(np.clip(wave, -1, 1).astype(np.float32), int(self.rate))
        except (sounddevice.PortAudioError, ValueError) as exc:
            self.playback_problem = f"playback failed ({exc})"
            self._enable_playback()
            return False
        return True

    def stop(self) -> None:
        if self.playback_problem is None:
            import sounddevice

            sounddevice.stop()
