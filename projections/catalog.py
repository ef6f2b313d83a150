"""Every read model, and how to open its view on the configured backend."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from projections.aefi import Aefi
from projections.desk_day import DeskDay
from projections.dose_reconciliation import DoseReconciliation
from projections.funnel import Funnel
from projections.non_responders import NonResponders
from projections.read_model import ReadModel
from projections.recall_trace import RecallTrace
from projections.shipment_reconciliation import ShipmentReconciliation
from projections.shipments import Shipments
from projections.stock_on_hand import StockOnHand
from projections.stock_reconciliation import StockReconciliation

READ_MODELS: dict[str, type[ReadModel]] = {cls.name: cls for cls in (
    StockOnHand, Shipments, Funnel, NonResponders, Aefi,
    ShipmentReconciliation, StockReconciliation, DoseReconciliation, RecallTrace, DeskDay,
)}


def view_env(env: dict[str, str], name: str) -> dict[str, str]:
    """The store's environment for read model ``name``: on SQLite its own file
    (the library's SQLite tracking table has one fixed name)."""
    view = {**env, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}  # one writer per read model
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite":
        store = Path(env["SQLITE_DBNAME"])
        view["SQLITE_DBNAME"] = str(store.with_name(f"{store.stem}.{name}{store.suffix}"))
    return view


def open_read_model(cls: type[ReadModel], env: dict[str, str]) -> ReadModel:
    backend = "postgres" if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres" else "sqlite"
    factory = InfrastructureFactory.construct(Environment(cls.name, view_env(env, cls.name)))
    return cls(factory.tracking_recorder(cls.views[backend]))
