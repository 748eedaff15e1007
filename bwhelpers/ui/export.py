"""The Postman export page's form: environment name, include-secrets (off, with a warning when on), the output
folder; a preview table like every other table of the walkthrough; and real downloads of the two files (a link with
the ``download`` attribute and the file in a ``data:`` URL: JupyterLab, Binder and JupyterHub then hand the file to the
browser instead of opening it in a viewer, and no token goes into a URL), with the next step in words."""
from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Callable

import ipywidgets as w

from .. import theme
from .display import show_html
from .forms import text_field
from .output import emit

__all__ = ["ExportForm", "export_form", "default_exports", "downloads_html", "download_href"]


def default_exports() -> str:
    """Where the export goes: ``$BW_EXPORT_DIR`` (the tests and the headless run point it at a temporary folder),
    else ``exports`` in the project folder (gitignored; where the README's newman command reads), relative to the
    cwd when that is inside the project (so JupyterLab can serve the downloads), else absolute."""
    from ..paths import project_root

    env = os.environ.get("BW_EXPORT_DIR")
    folder = Path(env).expanduser() if env else project_root() / "exports"
    try:
        rel = os.path.relpath(folder)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(folder)
    return str(folder) if env and rel.startswith(".." + os.sep + "..") else rel


#: the largest file offered as an in-page download (a data: link holds the whole file in the page)
MAX_INLINE = 2_000_000


def download_href(path: Path) -> str | None:
    """A ``data:`` URL holding the file itself: the browser saves it without asking the server, so the link works
    the same in JupyterLab, Binder and JupyterHub (whatever their base URL) and carries no token (JupyterLab's
    own file links add the ``_xsrf`` token to the URL). None for a file too large to put in the page."""
    import base64

    data = Path(path).read_bytes()
    if len(data) > MAX_INLINE:
        return None
    kind = "image/png" if Path(path).suffix.lower() == ".png" else "application/json"
    return f"data:{kind};base64," + base64.b64encode(data).decode("ascii")


#: the preview's value for a secret that is set but not shown: never blank, which would read as "the secret is empty"
SECRET_NOT_IN_FILE = "(hidden — set; not in the file: type it in Postman)"
SECRET_IN_FILE = "(hidden — set; in the file)"


def real_account_next(files: dict[str, Path], to: str) -> str:
    """For a real account: what ``to`` holds (or that it must be typed) and the newman line for it."""
    from ..steps import page

    send = html.escape(page("messages").notebook)
    if to:
        about = (f"<code>to</code> is <code>{html.escape(to)}</code>, the number {send} last texted (your own "
                 "phone): change it there to text another.")
    else:
        about = (f"<b><code>to</code> is empty</b>: no text was sent in {send} yet. Type your own mobile number into "
                 "the environment's <code>to</code> (current value, e.g. <code>+19195551234</code>), or the send "
                 "requests get 400.")
    coll, env = (html.escape(Path(files[k]).name) for k in ("collection", "environment"))
    folder = html.escape(str(Path(files["environment"]).parent))
    fill = "" if to else " --env-var to=+1YOURNUMBER"
    return (f" {about} From a terminal with Node.js: <code>cd {folder} &amp;&amp; npx newman run \"{coll}\" -e "
            f"\"{env}\" --env-var clientSecret=YOUR_SECRET{fill}</code> (npx fetches newman the first time; in a clone "
            "after the README's test command, <code>.venv/bin/node node_modules/newman/bin/newman.js run</code> does "
            "the same). It texts that number from your account.")


def downloads_html(files: dict[str, Path], secret: frozenset[str] = frozenset(), real_to: str | None = None) -> str:
    """Download links for the exported files and what to do with them. A file holding secrets (``secret``: its
    kinds) gets no link: the page would hold them; the file browser downloads it instead."""
    items = []
    for kind, path in files.items():
        name = Path(path).name
        where = (f'<span style="color:{theme.MUTED}">(saved in <code>{html.escape(str(Path(path).parent))}</code>)'
                 "</span>")
        href = None if kind in secret else download_href(path)
        if href is None:
            why = "it holds your secrets, so it is not put in this page" if kind in secret else "it is large"
            items.append(f"<li>{html.escape(kind)}: <code>{html.escape(name)}</code> {where}: {why}; download it "
                         "from the file browser on the left (right-click the file › <i>Download</i>)</li>")
            continue
        items.append(f'<li>{html.escape(kind)}: <a class="bw-download" href="{href}" download="{html.escape(name)}" '
                     f'style="color:{theme.accent("info")}">{html.escape(name)}</a> {where}</li>')
    return (f'<div class="bw-downloads" style="color:{theme.TEXT};line-height:1.4"><b>Download</b> (click each link: '
            "your browser saves the file to its Downloads folder, also on Binder and JupyterHub):"
            f'<ul style="margin:2px 0">{"".join(items)}</ul>'
            "<b>Next:</b> in Postman choose <i>Import</i>, drop the environment and the collection, pick the "
            "environment in the top-right menu, and run the collection (<i>Run collection</i>); the picture is the "
            "file the picture folder's upload asks for (choose it in that request's <i>Body</i>). Without secrets in "
            "the file, first type your "
            "Client Secret into the environment's <code>clientSecret</code> (current value)."
            + (real_account_next(files, real_to) if real_to is not None else
               " From a terminal on this machine, the README's newman lines (section “Postman”: start a sandbox, "
               "export, <code>newman run</code>) run the same collection.") + "</div>")


def environment_name(setup: Any) -> str:
    """The export's default environment name: the guide's for the sandbox (the README's newman line reads it), with
    the account for a real one, so exporting one target never replaces the other's file (nor its Postman
    environment)."""
    from ..postman import ENVIRONMENT_NAME

    config = getattr(setup, "config", None)
    if config is None or config.is_sandbox:
        return ENVIRONMENT_NAME
    return f"{ENVIRONMENT_NAME} (account {config.account_id})"


class ExportForm:
    """Environment name, include-secrets (off, with a warning when on) and the output folder."""

    def __init__(self, setup: Any, out_dir: str | None = None):
        self.setup = setup
        self.on_export: Callable[[dict[str, Path]], None] | None = None
        default_out = out_dir or default_exports()
        self.name = text_field("Environment name", environment_name(setup))
        self.include_secrets = w.Checkbox(value=False, description="Include secrets (client secret, password, token, "
                                          "secret)", style={"description_width": "initial"},
                                          layout=w.Layout(width="auto"))
        self.warning = w.HTML()
        self.out_dir = text_field("Output folder", default_out)
        self.include_secrets.observe(self._warn, names="value")
        self.widget = w.VBox([w.HTML("<b>Postman export</b>"), self.name, self.include_secrets, self.warning,
                              self.out_dir])
        self.widget.add_class("bw-export")

    def _warn(self, change: dict[str, Any]) -> None:
        self.warning.value = (f'<div style="color:{theme.TEXT}"><span style="color:{theme.accent("warn")}">'
                              f'{theme.ICONS["warn"]}</span> The environment file will contain your secrets in '
                              'plain text. Do not commit or share it. Run the cells below again to apply this.'
                              '</div>' if change["new"] else
                              f'<div style="color:{theme.TEXT}">Run the cells below again to apply this: the files '
                              'will hold no secret.</div>')

    def _ipython_display_(self) -> None:
        emit(self.widget)

    @property
    def values(self) -> dict[str, Any]:
        return {"name": self.name.value.strip() or environment_name(self.setup),
                "include_secrets": bool(self.include_secrets.value), "out_dir": self.out_dir.value.strip()}

    def preview(self) -> Any:
        """The environment's variables as a table like the walkthrough's others; secrets always masked here."""
        from ..postman import ENVIRONMENT_COLUMNS, environment_variables
        from ..tables import readable

        config = getattr(self.setup, "config", None)
        state = self.setup.saved if self.setup is not None else None
        include = self.values["include_secrets"]
        rows = environment_variables(config, state, include_secrets=include, masked=True)
        for row in rows:  # a set secret is never a blank cell (that reads as "the secret is empty")
            if row["type"] == "secret" and row["set"] and not row["value"]:
                row["value"] = SECRET_IN_FILE if include else SECRET_NOT_IN_FILE
        return readable(rows, ["key", "value", "type", "set", "source"], detail=["description"],
                        empty="(no variables)", all_columns=ENVIRONMENT_COLUMNS)

    def export(self) -> dict[str, str]:
        """Write both files and show their download links and the next step."""
        from ..postman import PICTURE_FILE, export

        v = self.values
        config = getattr(self.setup, "config", None)
        state = self.setup.saved if self.setup is not None else None
        files = export(config, state, out_dir=v["out_dir"], name=v["name"], include_secrets=v["include_secrets"])
        files["picture"] = (Path(v["out_dir"]) / PICTURE_FILE).resolve()  # the upload's body, written beside them
        real_to = None
        if config is not None and not config.is_sandbox:
            from ..postman import environment_variables

            real_to = next((r["value"] for r in environment_variables(config, state) if r["key"] == "to"), "")
        show_html(downloads_html(files, frozenset({"environment"}) if v["include_secrets"] else frozenset(),
                                 real_to=real_to))
        if self.on_export is not None:
            self.on_export(files)
        return {k: str(p) for k, p in files.items()}


def export_form(setup: Any, out_dir: str | None = None) -> ExportForm:
    """The Postman export form for ``setup``'s target and saved IDs."""
    return ExportForm(setup, out_dir)
