"""The rule form: every condition and action of one rule, with the reason a value is refused beside its field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from desktop import formatting as fmt
from desktop.qt import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from oms import orders, routing
from oms.core import money
from oms.routing.rules import Rule

# -- the form ----------------------------------------------------------------------------------------


class ChoiceBoxes(QWidget):
    """Known values to tick (channels, locations, order types…); none ticked means any.

    The boxes fill as many columns as the width allows, so a long list of channels
    wraps instead of widening the form.
    """

    changed = Signal()
    SPACING = 14

    def __init__(self, name: str, columns: int = 3) -> None:
        super().__init__()
        self.setObjectName(name)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(self.SPACING)
        self._grid.setVerticalSpacing(2)
        self._columns = columns  # at most
        self._placed = 0
        self.boxes: dict[str, QCheckBox] = {}
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

    def _fitting_columns(self, width: int) -> int:
        widest = max((b.sizeHint().width() for b in self.boxes.values()), default=1)
        return max(1, min(self._columns, len(self.boxes) or 1, (width + self.SPACING) // (widest + self.SPACING)))

    def _place(self, columns: int) -> None:
        for box in self.boxes.values():
            self._grid.removeWidget(box)
        for n, box in enumerate(self.boxes.values()):
            self._grid.addWidget(box, n // columns, n % columns, Qt.AlignmentFlag.AlignLeft)
        for c in range(self._columns + 1):
            self._grid.setColumnStretch(c, 1 if c == columns else 0)  # boxes keep their width: a click beside one misses it
        self._placed = columns

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        columns = self._fitting_columns(event.size().width())
        if columns != self._placed:
            self._place(columns)

    def minimumSizeHint(self):  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        widest = max((b.sizeHint().width() for b in self.boxes.values()), default=0)
        hint.setWidth(widest)
        return hint

    def set_choices(self, choices) -> None:
        """``choices``: (value, label) pairs; ticks on values still offered are kept."""
        choices = list(choices)
        if [(v, b.text().replace("&&", "&")) for v, b in self.boxes.items()] == choices:
            return
        ticked = self.values()
        for box in self.boxes.values():
            self._grid.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for value, label in choices:
            self._add(value, label)
        self.set_values(ticked)

    def _add(self, value: str, label: str) -> QCheckBox:
        box = QCheckBox(label.replace("&", "&&"))  # a name like "Harbor & Pine" is not a keyboard accelerator
        box.setObjectName(f"{self.objectName()}_{value}")
        box.setToolTip(value)
        box.toggled.connect(lambda _on: self.changed.emit())
        self.boxes[value] = box
        self._place(self._fitting_columns(self.width()) if self.width() > 1 else self._columns)
        box.show()  # now, not on the layout's queued show: it can be ticked at once
        return box

    def values(self) -> list[str]:
        return [v for v, b in self.boxes.items() if b.isChecked()]

    def set_values(self, values) -> None:
        for v in values or ():
            if v not in self.boxes:  # a value the rule names but that is no longer offered: keep it visible
                self._add(v, v)
        wanted = set(values or ())
        for v, b in self.boxes.items():
            b.blockSignals(True)
            b.setChecked(v in wanted)
            b.blockSignals(False)
        self.changed.emit()


def _csv(values) -> str:
    return ", ".join(values or ())


def _split_csv(text: str) -> list[str]:
    return [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]


def _number(text: str) -> Decimal | None:
    t = text.strip().replace(",", "").replace("$", "").replace(" ", "")
    if not t:
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


class RuleForm(QWidget):
    """Every condition and action of one rule, with the reason a value is refused next to its field."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("ruleForm")
        self.rule: Rule | None = None  # the rule as saved; None while a new rule is written
        self._baseline: tuple | None = None
        self._loading = False
        self.errors: dict[str, QLabel] = {}

        self.heading = QLabel()
        self.heading.setObjectName("sectionTitle")
        self.error_banner = QLabel()
        self.error_banner.setObjectName("holdBanner")
        self.error_banner.setWordWrap(True)
        self.error_banner.hide()

        self.name = QLineEdit()
        self.name.setObjectName("ruleName")
        self.name.setPlaceholderText(self.tr("What the rule is for, e.g. Wholesale west coast ships from Reno"))
        self.name.setMaxLength(200)
        self.enabled = QCheckBox(self.tr("Rule is switched on"))
        self.enabled.setObjectName("ruleEnabled")
        self.enabled.setChecked(True)

        self.channel = ChoiceBoxes("condChannel")
        self.order_type = ChoiceBoxes("condOrderType")
        self.order_type.set_choices([(k, self.tr(v)) for k, v in orders.ORDER_TYPE_TITLES.items()])
        self.country = self._line("condCountry", self.tr("Any country — e.g. US, CA"))
        self.region = self._line("condRegion", self.tr("Any state or region — e.g. CA, OR, WA"))
        self.postal_prefix = self._line("condPostal", self.tr("Any postal code — e.g. 94, 97 (starts with)"))
        self.sku = self._line("condSku", self.tr("Any SKU — e.g. MUG-RED-12OZ"))
        self.sku_tag = self._line("condSkuTag", self.tr("Any tag — e.g. fragile, outdoor"))
        self.order_tag = self._line("condOrderTag", self.tr("Any tag the channel gave — e.g. prime, business"))
        self.weight_min = self._line("condWeightMin", self.tr("any"), narrow=True)
        self.weight_max = self._line("condWeightMax", self.tr("any"), narrow=True)
        self.value_min = self._line("condValueMin", self.tr("any"), narrow=True)
        self.value_max = self._line("condValueMax", self.tr("any"), narrow=True)
        self.service_level = ChoiceBoxes("condService", columns=4)
        self.service_level.set_choices([(s, self.tr(s.capitalize())) for s in routing.SERVICE_LEVELS])

        self.allowed = ChoiceBoxes("actAllowed", columns=2)
        self.preferred = ChoiceBoxes("actPreferred", columns=2)
        self.split = QComboBox()
        self.split.setObjectName("actSplit")
        self.split.addItem(self.tr("Allow split: lines may ship from different locations"), "allow")
        self.split.addItem(self.tr("Ship complete: one location ships the whole order"), "ship_complete")
        self.forced_service = QComboBox()
        self.forced_service.setObjectName("actService")
        self.forced_service.addItem(self.tr("Keep the order's service level"), "")
        for s in routing.SERVICE_LEVELS:
            self.forced_service.addItem(self.tr(s.capitalize()), s)
        for combo in (self.split, self.forced_service):
            # Long choices must not widen the form past the editor; the open list still shows them whole.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        self.hold_reason = self._line("actHold", self.tr("Leave empty to route; a reason holds matching orders"))

        def row_of(*widgets, between: str | None = None) -> QWidget:
            w = QWidget()
            h = QHBoxLayout(w)
            h.setContentsMargins(0, 0, 0, 0)
            h.setSpacing(6)
            for i, x in enumerate(widgets):
                if i and between:
                    h.addWidget(QLabel(between))
                if isinstance(x, str):
                    label = QLabel(x)
                    label.setObjectName("hint")
                    h.addWidget(label)
                else:
                    h.addWidget(x)
            h.addStretch(1)
            return w

        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(4)
        self.grid.setColumnStretch(1, 1)
        self._row = 0

        def title(text: str, hint: str = "") -> None:
            label = QLabel(text)
            label.setObjectName("sectionTitle")
            self.grid.addWidget(label, self._row, 0, 1, 2)
            self._row += 1
            if hint:
                h = QLabel(hint)
                h.setObjectName("hint")
                h.setWordWrap(True)
                self.grid.addWidget(h, self._row, 0, 1, 2)
                self._row += 1

        def field(key: str, label: str, widget: QWidget) -> None:
            name = QLabel(label)
            name.setObjectName("fieldLabel")
            name.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            name.setContentsMargins(0, 6, 0, 0)
            self.grid.addWidget(name, self._row, 0)
            self.grid.addWidget(widget, self._row, 1)
            self._row += 1
            err = QLabel()
            err.setObjectName("fieldError")
            err.setStyleSheet(f"color: {fmt.LATE_COLOR.name()}; font-weight: 600;")
            err.setWordWrap(True)
            err.hide()
            self.grid.addWidget(err, self._row, 1)
            self._row += 1
            self.errors[key] = err

        field("name", self.tr("Name"), self.name)
        self.grid.addWidget(self.enabled, self._row, 1)
        self._row += 1
        self.grid.setRowMinimumHeight(self._row, 10)
        self._row += 1
        title(self.tr("Which orders"), self.tr("Leave a field empty to match any order; "
                                              "lists mean any of the values."))
        self.conditions_start = self._row
        field("channel", self.tr("Channel"), self.channel)
        field("order_type", self.tr("Order type"), self.order_type)
        field("country", self.tr("Country"), self.country)
        field("region", self.tr("State / region"), self.region)
        field("postal_prefix", self.tr("Postal code"), self.postal_prefix)
        field("sku", self.tr("SKU"), self.sku)
        field("sku_tag", self.tr("SKU tag"), self.sku_tag)
        field("order_tag", self.tr("Order tag"), self.order_tag)
        field("weight", self.tr("Weight"), row_of(self.tr("from"), self.weight_min, self.tr("to"), self.weight_max,
                                                  self.tr("kg")))
        field("value", self.tr("Order value"), row_of(self.tr("from"), self.value_min, self.tr("to"), self.value_max,
                                                      routing.RULE_CURRENCY))
        field("service_level", self.tr("Service"), self.service_level)
        self.conditions_end = self._row
        self.grid.setRowMinimumHeight(self._row, 10)
        self._row += 1
        title(self.tr("What happens"))
        field("allowed", self.tr("Ship only from"), self.allowed)
        field("locations", self.tr("Prefer"), self.preferred)
        field("split", self.tr("Splitting"), self.split)
        field("forced_service", self.tr("Service level"), self.forced_service)
        field("hold_reason", self.tr("Hold"), self.hold_reason)
        self.allowed.setToolTip(self.tr("None ticked: any active location may ship"))
        self.preferred.setToolTip(self.tr("Asked first when they can ship the order as well as the others"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(8)
        layout.addWidget(self.heading)
        layout.addWidget(self.error_banner)
        layout.addLayout(self.grid)
        layout.addStretch(1)

        for w in (self.name, self.country, self.region, self.postal_prefix, self.sku, self.sku_tag, self.order_tag, self.weight_min,
                  self.weight_max, self.value_min, self.value_max, self.hold_reason):
            w.textChanged.connect(self._changed)
        for c in (self.channel, self.order_type, self.service_level, self.allowed, self.preferred):
            c.changed.connect(self._changed)
        for c in (self.split, self.forced_service):
            c.currentIndexChanged.connect(self._changed)
        self.enabled.toggled.connect(self._changed)

    def _line(self, name: str, placeholder: str, *, narrow: bool = False) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(not narrow)
        if narrow:
            edit.setFixedWidth(90)
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        return edit

    def _changed(self, *_args) -> None:
        if not self._loading:
            self.changed.emit()

    # -- values
    def set_places(self, channels, locations) -> None:
        self._loading = True
        self.channel.set_choices(channels)
        self.allowed.set_choices([(code, f"{name} ({code})") for code, name in locations])
        self.preferred.set_choices([(code, f"{name} ({code})") for code, name in locations])
        self._loading = False
        self._chain_tabs()

    def _chain_tabs(self) -> None:
        """Tab walks the form top to bottom; boxes added when the places arrive would otherwise come last."""
        chain: list[QWidget] = [self.name, self.enabled, *self.channel.boxes.values(), *self.order_type.boxes.values(),
                                self.country, self.region, self.postal_prefix, self.sku, self.sku_tag, self.order_tag, self.weight_min,
                                self.weight_max, self.value_min, self.value_max, *self.service_level.boxes.values(),
                                *self.allowed.boxes.values(), *self.preferred.boxes.values(), self.split,
                                self.forced_service, self.hold_reason]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)

    def last_in_tab_order(self) -> QWidget:
        return self.hold_reason

    def load(self, rule: Rule | None) -> None:
        """Show a saved rule, or an empty form for a new one."""
        self._loading = True
        self.rule = rule
        c = rule.conditions if rule else {}
        a = rule.actions if rule else {"split": "allow"}
        self.heading.setText(self.tr("Edit rule") if rule else self.tr("New rule (not saved yet)"))
        self.name.setText(rule.name if rule else "")
        self.enabled.setChecked(rule.enabled if rule else True)
        self.channel.set_values(c.get("channel"))
        self.order_type.set_values(c.get("order_type"))
        self.country.setText(_csv(c.get("country")))
        self.region.setText(_csv(c.get("region")))
        self.postal_prefix.setText(_csv(c.get("postal_prefix")))
        self.sku.setText(_csv(c.get("sku")))
        self.sku_tag.setText(_csv(c.get("sku_tag")))
        self.order_tag.setText(_csv(c.get("order_tag")))
        self.weight_min.setText(self._kg(c.get("weight_min_g")))
        self.weight_max.setText(self._kg(c.get("weight_max_g")))
        self.value_min.setText(self._money(c.get("value_min_minor")))
        self.value_max.setText(self._money(c.get("value_max_minor")))
        self.service_level.set_values(c.get("service_level"))
        self.allowed.set_values(a.get("allowed_locations"))
        self.preferred.set_values(a.get("preferred_locations"))
        self.split.setCurrentIndex(max(0, self.split.findData(a.get("split") or "allow")))
        self.forced_service.setCurrentIndex(max(0, self.forced_service.findData(a.get("service_level") or "")))
        self.hold_reason.setText(a.get("hold_reason") or "")
        is_default = bool(rule and rule.is_default)
        self.enabled.setEnabled(not is_default)
        self.enabled.setToolTip(self.tr("The default rule is always on.") if is_default else "")
        for r in range(self.conditions_start, self.conditions_end):
            for col in (0, 1):
                item = self.grid.itemAtPosition(r, col)
                if item is not None and item.widget() is not None:
                    item.widget().setEnabled(not is_default)
        if is_default:
            self.heading.setText(self.tr("Edit the default rule — it applies to every order no rule above matches"))
        self.show_error(None)
        self._loading = False
        self._baseline = self._snapshot()

    @staticmethod
    def _kg(grams) -> str:
        if grams is None:
            return ""
        if grams % 1000 == 0:
            return str(grams // 1000)
        return f"{Decimal(grams) / 1000:f}".rstrip("0").rstrip(".")

    @staticmethod
    def _money(minor) -> str:
        if minor is None:
            return ""
        amount = Decimal(minor).scaleb(-money.exponent(routing.RULE_CURRENCY))  # the currency's own decimals
        return str(int(amount)) if amount == amount.to_integral_value() else f"{amount:f}"

    def _snapshot(self) -> tuple:
        return (self.name.text().strip(), self.enabled.isChecked(), tuple(self.channel.values()), tuple(self.order_type.values()),
                self.country.text(), self.region.text(), self.postal_prefix.text(), self.sku.text(), self.sku_tag.text(),
                self.order_tag.text(), self.weight_min.text(), self.weight_max.text(), self.value_min.text(), self.value_max.text(),
                tuple(self.service_level.values()), tuple(self.allowed.values()), tuple(self.preferred.values()),
                self.split.currentData(), self.forced_service.currentData(), self.hold_reason.text().strip())

    def is_dirty(self) -> bool:
        return self._baseline is not None and self._snapshot() != self._baseline

    def values(self) -> tuple[str, dict, dict]:
        """(name, conditions, actions) as typed; ValueError(field, message) when a number cannot be read."""
        c: dict = {}
        for key, value in (("channel", self.channel.values()), ("order_type", self.order_type.values()),
                           ("country", _split_csv(self.country.text())), ("region", _split_csv(self.region.text())),
                           ("postal_prefix", _split_csv(self.postal_prefix.text())), ("sku", _split_csv(self.sku.text())),
                           ("sku_tag", _split_csv(self.sku_tag.text())), ("order_tag", _split_csv(self.order_tag.text())),
                           ("service_level", self.service_level.values())):
            if value:
                c[key] = value
        for key, edit, scale, field, what in (
                ("weight_min_g", self.weight_min, 1000, "weight", self.tr("Weights are kilograms, like 2.5")),
                ("weight_max_g", self.weight_max, 1000, "weight", self.tr("Weights are kilograms, like 2.5")),
                ("value_min_minor", self.value_min, 10 ** money.exponent(routing.RULE_CURRENCY), "value",
                 self.tr("Order values are amounts, like 150 or 1,500.00")),
                ("value_max_minor", self.value_max, 10 ** money.exponent(routing.RULE_CURRENCY), "value",
                 self.tr("Order values are amounts, like 150 or 1,500.00"))):
            try:
                number = _number(edit.text())
            except ValueError:
                raise FormError(field, what) from None
            if number is not None:
                if number < 0:
                    raise FormError(field, self.tr("Use zero or more; leave it empty for any."))
                c[key] = int((number * scale).to_integral_value())
        a: dict = {"split": self.split.currentData()}
        if self.allowed.values():
            a["allowed_locations"] = self.allowed.values()
        if self.preferred.values():
            a["preferred_locations"] = self.preferred.values()
        if self.forced_service.currentData():
            a["service_level"] = self.forced_service.currentData()
        if self.hold_reason.text().strip():
            a["hold_reason"] = self.hold_reason.text().strip()
        return self.name.text().strip(), c, a

    def show_error(self, message: str | None, field: str | None = None) -> None:
        for key, label in self.errors.items():
            label.setVisible(bool(message) and key == field)
            label.setText(message or "" if key == field else "")
        if message:
            self.error_banner.setText(self.tr("This rule cannot be saved: {reason}").format(reason=message))
            self.error_banner.show()
        else:
            self.error_banner.hide()


class FormError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
