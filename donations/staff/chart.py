"""The members-over-time chart as plain geometry for a server-rendered SVG (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass

from donations.core.templating import human_date
from donations.staff.stats import DayPoint

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36
Y_TICKS = 4


@dataclass(frozen=True)
class Tick:
    """One axis label at a position."""

    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything the SVG template draws: the line, the goal line, the axes and the words."""

    width: int
    height: int
    line: str  # SVG polyline points
    area: str  # the same line closed along the x axis
    goal_y: float
    goal: int
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    plot_left: int
    plot_right: int
    plot_bottom: int
    title: str
    description: str


def _nice_ceiling(value: int) -> int:
    """Round up to 1, 2 or 5 times a power of ten, so axis labels are round numbers."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def build_chart(points: list[DayPoint], goal: int) -> Chart:
    """Scale the daily member counts and the goal into the SVG's coordinates."""
    top_value = _nice_ceiling(max([goal, 1, *(p.members for p in points)]))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h

    def y(value: int) -> float:
        return round(bottom - value * plot_h / top_value, 1)

    step = plot_w / max(len(points) - 1, 1)
    xs = [round(LEFT + i * step, 1) for i in range(len(points))]
    line = " ".join(f"{x},{y(p.members)}" for x, p in zip(xs, points, strict=True))
    area = f"{xs[0]},{bottom} {line} {xs[-1]},{bottom}" if points else ""
    every = max(1, len(points) // 6)
    x_ticks = [Tick(xs[i], human_date(points[i].day, "%b")) for i in range(0, len(points), every)]
    y_ticks = [
        Tick(y(top_value * k // Y_TICKS), f"{top_value * k // Y_TICKS:,}")
        for k in range(Y_TICKS + 1)
    ]
    first, last = (points[0], points[-1]) if points else (None, None)
    description = (
        f"From {first.members:,} members on {human_date(first.day)} to {last.members:,} on "
        f"{human_date(last.day)}; the goal is {goal:,}."
        if first and last
        else "No data."
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        line=line,
        area=area,
        goal_y=y(goal),
        goal=goal,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_bottom=bottom,
        title=f"Members over the last {len(points)} days against the goal of {goal:,}",
        description=description,
    )
