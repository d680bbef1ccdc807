"""What a chart is made of, and its two renderings: inline SVG for the page, fpdf2
drawing for the PDF. Both read the same shapes, so the page and the paper agree.

Coordinates are chart units (CSS pixels of a chart `width` wide), origin at the top
left, y pointing down, as in both SVG and fpdf2. A shape's `kind` becomes its SVG class
("point", "value", "phase-line", "band", "fit", …) for styling and tests.
"""

import hashlib
import math
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from fpdf import FPDF

from analytics.pdf import FONT_FAMILY, register_fonts

INK, MUTED, GRID, WHITE = "#222222", "#666666", "#d9d9d9", "#ffffff"
DASH = (6.0, 4.0)  # dash and gap of a dashed line, chart units
MM_TO_PT = 72 / 25.4


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str = INK
    width: float = 1.0
    dashed: bool = False
    kind: str = ""


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    colour: str = INK
    width: float = 1.0
    dashed: bool = False
    kind: str = ""


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    r: float
    colour: str = INK
    title: str = ""  # the tooltip
    kind: str = "point"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str | None = None
    stroke: str | None = None
    kind: str = ""


@dataclass(frozen=True)
class Text:
    x: float  # where the anchor is
    y: float  # the baseline
    text: str
    size: float = 11
    colour: str = INK
    anchor: str = "start"  # "start" | "middle" | "end", as SVG's text-anchor
    bold: bool = False
    kind: str = ""


Shape = Line | Polyline | Circle | Rect | Text


@dataclass
class Chart:
    title: str
    description: str  # one sentence for screen readers
    width: float
    height: float
    shapes: list[Shape] = field(default_factory=list)

    def svg(self) -> SafeString:
        """Inline SVG as wide as its container; no scripts, no external fonts."""
        digest = hashlib.sha256(repr((self.title, self.shapes)).encode()).hexdigest()[:12]
        key = f"chart-{digest}"
        parts = [
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" '
            f'viewBox="0 0 {short(self.width)} {short(self.height)}" width="100%" '
            f'role="img" aria-labelledby="{key}-title {key}-desc" '
            'font-family="system-ui, sans-serif">',
            f'<title id="{key}-title">{escape(self.title)}</title>',
            f'<desc id="{key}-desc">{escape(self.description)}</desc>',
            *(svg_shape(shape) for shape in self.shapes),
            "</svg>",
        ]
        return mark_safe("".join(parts))  # every text in it went through escape()

    def draw(self, pdf: FPDF, x: float, y: float, width: float) -> float:
        """Draw on the current page with the top left corner at (x, y), `width` wide (in
        the document's unit, mm for the report); return the height used."""
        register_fonts(pdf)
        scale = width / self.width
        with pdf.local_context():
            for shape in self.shapes:
                pdf_shape(pdf, shape, x, y, scale)
        return self.height * scale


def short(value: float) -> str:
    """A number as short as it reads: 45, 12.5, 3.14."""
    if math.isfinite(value) and value == round(value):
        return str(round(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def svg_shape(shape: Shape) -> str:
    kind = f' class="{escape(shape.kind)}"' if shape.kind else ""
    if isinstance(shape, Text):
        weight = ' font-weight="bold"' if shape.bold else ""
        return (
            f'<text x="{short(shape.x)}" y="{short(shape.y)}" font-size="{short(shape.size)}" '
            f'fill="{shape.colour}" text-anchor="{shape.anchor}"{weight}{kind}>'
            f"{escape(shape.text)}</text>"
        )
    if isinstance(shape, Circle):
        tip = f"<title>{escape(shape.title)}</title>" if shape.title else ""
        return (
            f'<circle cx="{short(shape.x)}" cy="{short(shape.y)}" r="{short(shape.r)}" '
            f'fill="{shape.colour}" stroke="{WHITE}" stroke-width="1"{kind}>{tip}</circle>'
        )
    if isinstance(shape, Rect):
        return (
            f'<rect x="{short(shape.x)}" y="{short(shape.y)}" width="{short(shape.w)}" '
            f'height="{short(shape.h)}" fill="{shape.fill or "none"}" '
            f'stroke="{shape.stroke or "none"}"{kind}/>'
        )
    dash = f' stroke-dasharray="{short(DASH[0])} {short(DASH[1])}"' if shape.dashed else ""
    stroke = f'stroke="{shape.colour}" stroke-width="{short(shape.width)}"{dash}{kind}'
    if isinstance(shape, Line):
        return (
            f'<line x1="{short(shape.x1)}" y1="{short(shape.y1)}" x2="{short(shape.x2)}" '
            f'y2="{short(shape.y2)}" {stroke}/>'
        )
    points = " ".join(f"{short(x)},{short(y)}" for x, y in shape.points)
    return f'<polyline points="{points}" fill="none" stroke-linejoin="round" {stroke}/>'


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def pdf_shape(pdf: FPDF, shape: Shape, left: float, top: float, scale: float) -> None:
    """One shape on the page: chart units times `scale`, offset by (left, top)."""

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * scale, top + y * scale

    if isinstance(shape, Text):
        pdf.set_font(FONT_FAMILY, "B" if shape.bold else "", shape.size * scale * MM_TO_PT)
        pdf.set_text_color(*rgb(shape.colour))
        x, y = at(shape.x, shape.y)
        width = pdf.get_string_width(shape.text)
        x -= {"middle": width / 2, "end": width}.get(shape.anchor, 0)
        pdf.text(x, y, shape.text)
        return
    pdf.set_dash_pattern()
    pdf.set_line_width(scale)
    if isinstance(shape, Circle):
        pdf.set_fill_color(*rgb(shape.colour))
        pdf.set_draw_color(*rgb(WHITE))
        pdf.circle(*at(shape.x, shape.y), shape.r * scale, style="DF")
    elif isinstance(shape, Rect):
        if shape.fill:
            pdf.set_fill_color(*rgb(shape.fill))
        if shape.stroke:
            pdf.set_draw_color(*rgb(shape.stroke))
        style = ("D" if shape.stroke else "") + ("F" if shape.fill else "")
        if style:
            pdf.rect(*at(shape.x, shape.y), shape.w * scale, shape.h * scale, style=style)
    else:
        pdf.set_draw_color(*rgb(shape.colour))
        pdf.set_line_width(shape.width * scale)
        if shape.dashed:
            pdf.set_dash_pattern(DASH[0] * scale, DASH[1] * scale)
        if isinstance(shape, Line):
            pdf.line(*at(shape.x1, shape.y1), *at(shape.x2, shape.y2))
        else:
            pdf.polyline([at(x, y) for x, y in shape.points], style="D")
