"""997 functional acknowledgments: the one we send for a group we received, and reading the ones we get.

``build_997`` returns the segments between ST and SE; the caller wraps them with
``write_interchange`` (which adds ST/SE, GS/GE and ISA/IEA with its own control numbers).

Statuses: a transaction set with an error finding is rejected (AK501 R), one with only
warnings is accepted with errors (E), the rest accepted (A). The group (AK901) is R when a
group-level error exists or every set was rejected, P when only some were, E when any set
or the group has warnings, else A. Every set received is listed with an AK2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from oms.core.i18n import _

from .x12 import Group, Interchange, Segment, Transaction, ValidationIssue, X12Error

__all__ = ["AckResult", "ElementError", "SegmentError", "STATUS_TEXT", "TransactionAck", "build_997",
           "parse_997", "transaction_status"]

STATUS_TEXT = {
    "A": _("accepted"),
    "E": _("accepted with errors"),
    "P": _("partially accepted"),
    "R": _("rejected"),
    "M": _("rejected: message authentication code failed"),
    "W": _("rejected: assurance failed validity tests"),
    "X": _("rejected: content could not be analysed after decryption"),
}

Status = Literal["A", "E", "R"]


def transaction_status(issues: Iterable[ValidationIssue]) -> Status:
    issues = list(issues)
    if any(i.is_error for i in issues):
        return "R"
    return "E" if issues else "A"


def _issues_of(transaction: Transaction, group: Group, issues: list[ValidationIssue]) -> list[ValidationIssue]:
    mine = [i for i in issues if i.transaction_control == transaction.control
            and i.group_control in ("", group.control) and i.level in ("transaction", "segment")]
    return mine


def build_997(interchange: Interchange, group: Group, issues: Iterable[ValidationIssue] | None = None, *,
              implementation_reference: str = "") -> list[Segment]:
    """The 997 body (AK1 .. AK9) acknowledging ``group``.

    ``issues``: the findings to report, by default ``group.issues``; add those of the document
    mapping (``read_850`` returns issues carrying their transaction control number) to reject a set
    whose content we cannot use. Issues are matched to sets by ST02 (and GS06 when they carry it).
    """
    del interchange  # kept in the signature: the lead's TA1 for envelope faults needs it alongside
    found = list(group.issues if issues is None else issues)
    version_5010 = group.version.startswith("005")
    segments: list[Segment] = [Segment("AK1", (group.functional_id, group.control, group.version) if version_5010
                                       else (group.functional_id, group.control))]
    accepted = 0
    statuses: list[str] = []
    for tx in group.transactions:
        tx_issues = _issues_of(tx, group, found)
        status = transaction_status(tx_issues)
        statuses.append(status)
        if status != "R":
            accepted += 1
        ak2 = [tx.set_id, tx.control]
        if version_5010 and implementation_reference:
            ak2.append(implementation_reference)
        segments.append(Segment("AK2", tuple(ak2)))
        segments.extend(_segment_notes(tx_issues))
        codes = _codes(i for i in tx_issues if i.level == "transaction")
        if status != "A" and not codes and any(i.level == "segment" for i in tx_issues):
            codes = ["5"]
        segments.append(Segment("AK5", (status, *codes[:5])))

    group_issues = [i for i in found if i.level == "group" and i.group_control in ("", group.control)]
    group_codes = _codes(group_issues)
    if any(i.is_error for i in group_issues) or (statuses and all(s == "R" for s in statuses)):
        group_status = "R"
    elif "R" in statuses:
        group_status = "P"
    elif "E" in statuses or group_issues:
        group_status = "E"
    else:
        group_status = "A"
    included = group.ge_count if group.ge_count is not None else len(group.transactions)
    segments.append(Segment("AK9", (group_status, str(included), str(len(group.transactions)), str(accepted),
                                    *group_codes[:5])))
    return segments


def _codes(issues: Iterable[ValidationIssue]) -> list[str]:
    codes: list[str] = []
    for i in issues:
        if i.code not in codes:
            codes.append(i.code)
    return codes


def _segment_notes(issues: list[ValidationIssue]) -> list[Segment]:
    """AK3 per faulty segment (one per position), followed by AK4 per faulty element."""
    out: list[Segment] = []
    by_position: dict[tuple[int, str], list[ValidationIssue]] = {}
    for i in issues:
        if i.level == "segment":
            by_position.setdefault((i.position, i.segment), []).append(i)
    for (position, tag), found in sorted(by_position.items()):
        element_issues = [i for i in found if i.element is not None and i.element_code]
        segment_codes = [i.code for i in found if not (i.element is not None and i.element_code)]
        code = segment_codes[0] if segment_codes else "8"
        out.append(Segment("AK3", (tag[:3], str(position), "", code)))
        for i in element_issues:
            out.append(Segment("AK4", (str(i.element), "", i.element_code or "", i.bad_value[:99])))
    return out


# --- 997s we receive ----------------------------------------------------------------------


@dataclass(frozen=True)
class ElementError:
    position: str  # AK401 as sent ("3", or "3:1" for a component)
    reference: str
    code: str
    bad_value: str


@dataclass(frozen=True)
class SegmentError:
    tag: str
    position: int | None
    loop: str
    code: str
    elements: tuple[ElementError, ...] = ()


@dataclass(frozen=True)
class TransactionAck:
    set_id: str
    control: str
    status: str  # A, E, R (M, W, X)
    codes: tuple[str, ...] = ()
    segment_errors: tuple[SegmentError, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")


@dataclass(frozen=True)
class AckResult:
    """What a partner's 997 says about one of our groups."""

    functional_id: str
    group_control: str  # the GS06 of ours it acknowledges
    version: str
    status: str  # AK901: A, E, P, R
    included: int | None
    received: int | None
    accepted: int | None
    codes: tuple[str, ...]
    transactions: tuple[TransactionAck, ...]

    @property
    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status, self.status)

    def status_of(self, control: str) -> str | None:
        """AK501 for our set ``control``; for a set the 997 does not list, the group's status
        when the whole group was accepted or rejected, else None."""
        for t in self.transactions:
            if t.control == control or (t.control.isdigit() and control.isdigit() and int(t.control) == int(control)):
                return t.status
        return self.status if self.status in ("A", "E", "R") else None


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def parse_997(transaction: Transaction) -> AckResult:
    """Read a 997 we received; raises X12Error when it is not a readable 997."""
    if transaction.set_id != "997":
        raise X12Error(_("Transaction set {id} is not a functional acknowledgment (997).").format(
            id=transaction.set_id))
    ak1: Segment | None = None
    ak9: Segment | None = None
    acks: list[TransactionAck] = []
    current: dict | None = None

    def finish(ak5: Segment | None) -> None:
        nonlocal current
        if current is None:
            return
        status = ak5.el(1) if ak5 else ""
        codes = tuple(c for c in (ak5.elements[1:] if ak5 else ()) if c)
        acks.append(TransactionAck(current["set_id"], current["control"], status, codes, tuple(current["errors"])))
        current = None

    for seg in transaction.segments:
        if seg.tag == "AK1":
            ak1 = seg
        elif seg.tag == "AK2":
            finish(None)
            current = {"set_id": seg.el(1), "control": seg.el(2), "errors": []}
        elif seg.tag == "AK3" and current is not None:
            current["errors"].append(SegmentError(seg.el(1), _int(seg.el(2)), seg.el(3), seg.el(4)))
        elif seg.tag == "AK4" and current is not None and current["errors"]:
            last = current["errors"][-1]
            element = ElementError(seg.el(1), seg.el(2), seg.el(3), seg.el(4))
            current["errors"][-1] = SegmentError(last.tag, last.position, last.loop, last.code,
                                                 last.elements + (element,))
        elif seg.tag == "AK5":
            finish(seg)
        elif seg.tag == "AK9":
            finish(None)
            ak9 = seg
    if ak1 is None or ak9 is None:
        raise X12Error(_("This 997 has no {tag} segment, so it cannot be read.").format(
            tag="AK1" if ak1 is None else "AK9"))
    return AckResult(
        functional_id=ak1.el(1), group_control=ak1.el(2), version=ak1.el(3), status=ak9.el(1),
        included=_int(ak9.el(2)), received=_int(ak9.el(3)), accepted=_int(ak9.el(4)),
        codes=tuple(c for c in ak9.elements[4:] if c), transactions=tuple(acks))
