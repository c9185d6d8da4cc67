"""Saved ipywidgets as static HTML: what a widget showed when the notebook was stored, without a kernel.

A notebook saved with its widget state holds every model (slider values, progress bars, the
outputs an `interact` displayed). `replace_widget_outputs` turns each widget view of a code cell
into ordinary outputs: an HTML snapshot of the controls, with a note that they need a kernel, and
the saved outputs of any Output widget (figures stay figures, so the site writes them as files).
"""
from __future__ import annotations

import html
import math

import nbformat

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"

KERNEL_NOTE = (
    '<p class="gc-widget-note">Saved position: these controls move only with a running kernel. '
    "Open the chapter in JupyterLab (<code>make lab</code>) and run it to use them.</p>"
)
MISSING_NOTE = (
    '<p class="gc-widget-note">A widget was here, but its state was not saved with the notebook. '
    "Open the chapter in JupyterLab (<code>make lab</code>) and run it to see it.</p>"
)
CONTROLS = {"Slider", "Dropdown", "ToggleButtons", "Text", "Checkbox", "Button", "Select", "RadioButtons"}


def widget_state(nb) -> dict:
    """The saved models of a notebook, by model id ({} when it saved none)."""
    return nb.metadata.get("widgets", {}).get(STATE, {}).get("state", {})


def replace_widget_outputs(nb) -> int:
    """Replace every widget view in `nb` by static outputs; drop the widget state. Returns the count."""
    state = widget_state(nb)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(VIEW)
            if view is None:
                outputs.append(out)
                continue
            outputs.extend(nbformat.from_dict(o) for o in _static(view["model_id"], state))
            count += 1
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return count


def _static(model_id: str, state: dict) -> list[dict]:
    """The outputs that stand for one widget view: HTML parts and the saved outputs between them."""
    if model_id not in state:
        return [_html(MISSING_NOTE)]
    parts: list = []
    _walk(model_id, state, parts)
    needs_kernel = any(_is_control(state[m]["model_name"]) for m in _descendants(model_id, state))
    outputs, pending = [], []
    for part in parts + [None]:
        if isinstance(part, str):
            pending.append(part)
            continue
        if pending:
            note = KERNEL_NOTE if needs_kernel else ""
            outputs.append(_html('<div class="gc-widget">' + "".join(pending) + "</div>" + note))
            needs_kernel, pending = False, []
        if part is not None:
            outputs.extend(part)
    return outputs or [_html(MISSING_NOTE)]


def _walk(model_id: str, state: dict, parts: list) -> None:
    """Append the HTML of a model (a string) or its saved outputs (a list) to `parts`, in display order."""
    model = state.get(model_id)
    if model is None:
        parts.append(MISSING_NOTE)
        return
    name, s = model["model_name"], model["state"]
    if name == "OutputModel":
        parts.append([_plain(o, state) for o in s.get("outputs", [])])
    elif "children" in s:
        children = [c.removeprefix("IPY_MODEL_") for c in s["children"]]
        if name == "HBoxModel" and not any(state.get(c, {}).get("model_name") == "OutputModel" for c in children):
            inner: list = []
            for child in children:
                _walk(child, state, inner)
            parts.append('<div class="gc-hbox">' + "".join(p for p in inner if isinstance(p, str)) + "</div>")
        else:
            for child in children:
                _walk(child, state, parts)
    else:
        parts.append(f'<div class="gc-row">{_control(name, s)}</div>')


def _plain(out: dict, state: dict) -> dict:
    """An output saved inside an Output widget, as an nbformat output (nested widgets kept static)."""
    out = dict(out)
    out.setdefault("metadata", {})
    if out.get("output_type") == "stream":
        out.pop("metadata")
    view = out.get("data", {}).get(VIEW)
    if view is not None:  # a widget displayed inside an Output widget: its controls as HTML only
        parts: list = []
        _walk(view["model_id"], state, parts)
        return _html("".join(p for p in parts if isinstance(p, str)))
    return out


def _control(name: str, s: dict) -> str:
    """One control, drawn disabled at its saved value."""
    label = f'<span class="gc-label">{html.escape(s["description"])}</span>' if s.get("description") else ""
    options = s.get("_options_labels") or []
    if name in ("HTMLModel", "HTMLMathModel"):
        return f'<span class="gc-html">{s.get("value", "")}</span>'
    if name == "LabelModel":
        return f'<span class="gc-html">{html.escape(str(s.get("value", "")))}</span>'
    if name.endswith("ProgressModel"):
        style = f' gc-{s["bar_style"]}' if s.get("bar_style") else ""
        return f'{label}<progress class="gc-progress{style}" max="{s.get("max", 100)}" value="{s.get("value", 0)}"></progress>'
    if name.startswith("Selection") and "Slider" in name:
        index = s.get("index") or 0
        return label + _range(0, len(options) - 1, 1, index, options[index] if options else "")
    if name == "FloatLogSliderModel":
        base, value = s.get("base", 10), s.get("value", 1)
        return label + _range(s["min"], s["max"], s["step"], math.log(value, base), _fmt(value, s.get("readout_format")))
    if "Slider" in name:
        value = s.get("value", 0)
        return label + _range(s.get("min", 0), s.get("max", 100), s.get("step", 1), value, _fmt(value, s.get("readout_format")))
    if name in ("DropdownModel", "SelectModel"):
        items = "".join(
            f"<option{' selected' if i == s.get('index') else ''}>{html.escape(o)}</option>" for i, o in enumerate(options)
        )
        return f"{label}<select disabled>{items}</select>"
    if name in ("ToggleButtonsModel", "RadioButtonsModel"):
        buttons = "".join(
            f'<button disabled class="gc-toggle{" gc-selected" if i == s.get("index") else ""}">{html.escape(o)}</button>'
            for i, o in enumerate(options)
        )
        return f'{label}<span class="gc-toggles">{buttons}</span>'
    if name in ("IntTextModel", "FloatTextModel", "BoundedIntTextModel", "BoundedFloatTextModel", "TextModel"):
        return f'{label}<input class="gc-text" disabled value="{html.escape(str(s.get("value", "")))}">'
    if name == "CheckboxModel":
        return f'<input type="checkbox" disabled{" checked" if s.get("value") else ""}>{label}'
    if name == "ButtonModel":
        return f'<button disabled class="gc-toggle">{html.escape(s.get("description", ""))}</button>'
    return f'<span class="gc-widget-note">[{html.escape(name.removesuffix("Model"))}: needs a running kernel]</span>'


def _range(lo, hi, step, value, readout: str) -> str:
    return (
        f'<input type="range" class="gc-slider" disabled min="{lo}" max="{hi}" step="{step}" value="{value}">'
        f'<span class="gc-readout">{html.escape(str(readout))}</span>'
    )


def _fmt(value, spec: str | None) -> str:
    """Format a readout with ipywidgets' (d3) format string where Python reads it the same way."""
    try:
        return format(value, spec or "")
    except (ValueError, TypeError):
        return str(value)


def _is_control(name: str) -> bool:
    return any(word in name for word in CONTROLS)


def _descendants(model_id: str, state: dict) -> list[str]:
    """A model and every model under it (children, not layouts or styles)."""
    found, todo = [], [model_id]
    while todo:
        m = todo.pop()
        if m in state and m not in found:
            found.append(m)
            todo += [c.removeprefix("IPY_MODEL_") for c in state[m]["state"].get("children", [])]
    return found


def _html(text: str) -> dict:
    return {"output_type": "display_data", "data": {"text/html": text}, "metadata": {}}
