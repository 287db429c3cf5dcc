"""What an import read, imported, repaired and skipped."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LayerReport:
    """Counts and details for one layer of one import."""

    read: int = 0
    imported: int = 0
    repaired: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)


@dataclass
class ImportReport:
    """The summary printed after an import and stored with it."""

    source: str
    layers: dict[str, LayerReport] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    households_estimated: int = 0
    households_from_ledger: int = 0
    households_total: int = 0
    households_default_share: float = 0.0
    #: households_source -> buildings (see gridmgmt.core.households.SOURCE_CONFIDENCE)
    households_by_source: dict[str, int] = field(default_factory=dict)

    def layer(self, name: str) -> LayerReport:
        return self.layers.setdefault(name, LayerReport())

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "layers": {
                k: {
                    "read": v.read,
                    "imported": v.imported,
                    "repaired": [list(x) for x in v.repaired],
                    "skipped": [list(x) for x in v.skipped],
                }
                for k, v in self.layers.items()
            },
            "warnings": list(self.warnings),
            "households_estimated": self.households_estimated,
            "households_from_ledger": self.households_from_ledger,
            "households_total": self.households_total,
            "households_default_share": round(self.households_default_share, 4),
            "households_by_source": dict(self.households_by_source),
        }

    def __str__(self) -> str:
        lines = [f"import of {self.source}"]
        lines.append(f"  {'layer':<12}{'read':>8}{'imported':>10}{'repaired':>10}{'skipped':>9}")
        for name, r in self.layers.items():
            lines.append(
                f"  {name:<12}{r.read:>8}{r.imported:>10}{len(r.repaired):>10}{len(r.skipped):>9}"
            )
        if self.households_estimated or self.households_from_ledger:
            lines.append(
                f"  buildings with estimated households: {self.households_estimated}, "
                f"from the ledger: {self.households_from_ledger}"
            )
        if self.households_by_source:
            by_source = ", ".join(f"{k} {v}" for k, v in sorted(self.households_by_source.items()))
            lines.append(
                f"  households: {self.households_total:,} "
                f"({self.households_default_share:.0%} from default floors); "
                f"buildings by source: {by_source}"
            )
        for name, r in self.layers.items():
            for fid, why in r.repaired[:5]:
                lines.append(f"  repaired {name} {fid}: {why}")
            if len(r.repaired) > 5:
                lines.append(f"  ... {len(r.repaired) - 5} more repaired {name}")
            for fid, why in r.skipped[:5]:
                lines.append(f"  skipped {name} {fid}: {why}")
            if len(r.skipped) > 5:
                lines.append(f"  ... {len(r.skipped) - 5} more skipped {name}")
        lines.extend(f"  note: {w}" for w in self.warnings)
        return "\n".join(lines)
