"""The plots the notebooks show; their reader comes from `api.runtime.analytics_reader`."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import networkx as nx
import pandas as pd


def plot_pyramid(pyramid: pd.DataFrame, title: str = "Age pyramid") -> Any:
    figure, axis = plt.subplots(figsize=(7, 5))
    bands = pyramid["age_band"].astype(str)
    axis.barh(bands, -pyramid["male"], color="#4a7ab5", label="Nam")
    axis.barh(bands, pyramid["female"], color="#d9776b", label="Nữ")
    axis.set_xticks(axis.get_xticks())
    axis.set_xticklabels([f"{abs(int(x)):,}" for x in axis.get_xticks()])
    axis.set_title(title)
    axis.legend()
    return figure


def plot_incidence(monthly: pd.DataFrame, top: int = 5, title: str = "Cases by month") -> Any:
    leading = monthly.groupby("group")["cases"].sum().nlargest(top).index
    table = (monthly[monthly["group"].isin(leading)]
             .pivot_table(index="bucket", columns="group", values="cases", aggfunc="sum", fill_value=0))
    axis = table.plot(figsize=(8, 4), marker="o", title=title)
    axis.set_xlabel("")
    return axis.figure


def plot_coverage(coverage: pd.DataFrame, indicator: str = "fully immunized under 1") -> Any:
    part = coverage[coverage["indicator"] == indicator].dropna(subset=["percent"]).sort_values("percent")
    part = part.astype({"percent": float})
    if part.empty:  # every commune's cell withheld (under 5 persons) or none has the indicator
        figure, axis = plt.subplots(figsize=(7, 2))
        axis.text(0.5, 0.5, f"{indicator}: no commune with 5 or more persons to show", ha="center", va="center")
        axis.axis("off")
        return figure
    axis = part.plot.barh(x="commune", y="percent", figsize=(7, max(3, len(part) * 0.25)), legend=False,
                          title=f"{indicator} (%) by commune")
    axis.set_xlim(0, 100)
    return axis.figure


def plot_network(network: nx.Graph, title: str = "Comorbidity network") -> Any:
    figure, axis = plt.subplots(figsize=(7, 6))
    layout = nx.spring_layout(network, seed=3, weight="weight")
    colours = [network.nodes[n].get("community", 0) for n in network.nodes]
    sizes = [100 + 2000 * network.nodes[n].get("centrality", 0) for n in network.nodes]
    nx.draw_networkx(network, layout, ax=axis, node_color=colours, node_size=sizes, cmap="tab10", font_size=8,
                     edge_color="#bbbbbb")
    axis.set_title(title)
    axis.axis("off")
    return figure
