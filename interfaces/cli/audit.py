"""``rantai audit`` and ``rantai keys``: the auditors' tools.

The commands live in their own modules, which register on these groups:
``audit_log`` (checkpoint, verify, prove), ``audit_history`` (history, as-of,
replay) and ``audit_export`` (EPCIS and FHIR documents).
"""

from __future__ import annotations

import typer

audit = typer.Typer(help="Auditors' tools: history, proofs that the log was not changed, replay, exports.",
                    no_args_is_help=True)
keys = typer.Typer(help="The keys Rantai cannot work without: back them up and restore them.", no_args_is_help=True)
