"""Bundle runtime hook: sounddevice finds PortAudio with ctypes.util.find_library("portaudio"), which on Linux looks
only at the system's libraries. The bundle carries its own libportaudio.so.2 (PyInstaller's sounddevice hook puts it
beside the other libraries): point the lookup there, so audio playback works where Debian's libportaudio2 is not
installed, and the bundle uses the library it was tested with."""
import ctypes.util
import os
import sys

_bundled = os.path.join(getattr(sys, "_MEIPASS", ""), "libportaudio.so.2")
if sys.platform.startswith("linux") and os.path.isfile(_bundled):
    _system_find_library = ctypes.util.find_library

    def _find_library(name):
        return _bundled if name == "portaudio" else _system_find_library(name)

    ctypes.util.find_library = _find_library
