"""What the notebooks use: a reader on HoSo's graph from the settings, and the plots they show."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import networkx as nx
import pandas as pd

from analytics.base import GraphReader


def connect() -> GraphReader:
    """A reader for the settings' data: the analytics projection when one is built, else the graph (the
    managed Neo4j is started if it is not running)."""
    from analytics.projection import reader_for
    from api.runtime import managed_server, neo4j_target
    from api.settings import get_settings
    from graph import open_driver

    settings = get_settings()
    if settings.managed_neo4j:
        managed_server(settings).start()
    target = neo4j_target(settings)
    driver = open_driver(target.uri, target.user, target.password)
    return reader_for(driver, target.database, settings.data_path, settings.analytics_source)


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
