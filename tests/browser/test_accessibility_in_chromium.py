"""An axe-core audit of every page, light and dark: zero violations.

axe comes from npm (package.json pins it; node_modules/axe-core/axe.min.js) and is run
through Playwright's evaluate, which the page's Content Security Policy does not govern,
so the audit sees the page exactly as a person gets it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    return AXE.read_text()


def audit(page, axe_source: str) -> list[dict]:
    """axe's violations on the page as it stands, each with the elements it found."""
    page.wait_for_load_state("load")
    if page.locator("#swagger-ui").count():  # Swagger UI renders after the document loads
        page.locator("#swagger-ui .opblock").first.wait_for()
    page.evaluate(axe_source)
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.map(n => ({target: n.target.join(" "),
                                                   summary: n.failureSummary}))}))"""
    )


def readable(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
            for node in v["nodes"][:5]:
                summary = " ".join(node["summary"].split())
                lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_has_no_axe_violations(context_for, tour, axe_source, scheme):
    page = context_for(color_scheme=scheme).new_page()
    found = {}
    for name, path in tour["out"]:
        page.goto(path)
        found[name] = audit(page, axe_source)
    log_in(page)
    for name, path in tour["in"]:
        page.goto(path)
        found[f"{name} (signed in)"] = audit(page, axe_source)
    page.goto("/library")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove Apothecary Diaries").click()
    page.locator("#toasts").get_by_role("button", name="Undo").hover()  # it stays while audited
    found["library with a toast"] = audit(page, axe_source)
    found = {where: violations for where, violations in found.items() if violations}
    assert not found, "axe found:\n" + readable(found)
