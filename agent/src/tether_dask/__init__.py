"""`from tether_dask import DaskTaskRunner`, as `from prefect_dask import DaskTaskRunner` in Prefect 3."""

from tether._dask_runner import DaskTaskRunner

__all__ = ["DaskTaskRunner"]
