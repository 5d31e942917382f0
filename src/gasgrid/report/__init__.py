"""HTML engineering report of a steady result: one self-contained file that works offline.

Needs the optional ``report`` extra (plotly). :func:`build_report` is the entry point; the figure and table
builders are usable on their own.
"""

from gasgrid.report.html import FIGURE_IDS, build_report

__all__ = ["FIGURE_IDS", "build_report"]
