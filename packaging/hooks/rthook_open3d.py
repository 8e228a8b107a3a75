"""Bundle runtime hook: `import open3d` imports its Plotly/Dash web viewer at once, and the bundle leaves Plotly,
Dash and the notebook stack out (~100 MB, ~0.4 s of every start). DEQ Studio only uses Open3D's mesh I/O, raycasting
and decimation, so a stand-in takes the viewer module's place and says why if anything ever calls it."""
import sys
import types


def _not_bundled(*args, **kwargs):
    raise RuntimeError("Open3D's Plotly viewer is not part of the DEQ Studio bundle")


_viewer = types.ModuleType("open3d.visualization.draw_plotly")
_viewer.get_plotly_fig = _viewer.draw_plotly = _viewer.draw_plotly_server = _not_bundled
sys.modules.setdefault(_viewer.__name__, _viewer)
