"""The portal in a real browser (spec §13): Debian's chromium driven by Playwright, a flow
per role against `stamp-local serve --demo`, axe-core on every page (0 serious or
critical violations), page weight (HTML + CSS + JS < 150 KB), a screenshot of every page
under target/portal-screenshots/.

Usage: python portal_flows.py BASE_URL AXE_JS SCREENSHOT_DIR
Exits non-zero when a check fails; prints one line per page and a summary.
"""

import re
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright, expect

BASE, AXE_JS, SHOTS = sys.argv[1].rstrip("/"), Path(sys.argv[2]).read_text(), Path(sys.argv[3])
ORG = "5569999997"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
LIMIT = 150 * 1024

results = {"pages": 0, "flows": 0, "checks": 0, "serious": 0, "critical": 0, "moderate": 0, "minor": 0}
weights = {}
failures = []


def check(ok, what):
    results["checks"] += 1
    if not ok:
        failures.append(what)
        print(f"  FAIL {what}")


class Weigher:
    """Bytes of the document, stylesheets and scripts a page loads."""

    def __init__(self, page):
        self.responses = []
        page.on("response", lambda r: self.responses.append(r))

    def reset(self):
        self.responses = []

    def total(self):
        n = 0
        for r in self.responses:
            if r.request.resource_type in ("document", "stylesheet", "script"):
                try:
                    n += len(r.body())
                except Exception:
                    pass
        return n


def audit(page, weigher, name, expect_status=None):
    """axe-core on the page as it stands, its weight, and a screenshot."""
    page.wait_for_load_state("load")
    results["pages"] += 1
    page.add_script_tag(content=AXE_JS)
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
            return r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
        }"""
    )
    for v in found:
        results[v["impact"] or "minor"] = results.get(v["impact"] or "minor", 0) + 1
        if v["impact"] in ("serious", "critical"):
            failures.append(f"{name}: axe {v['impact']} {v['id']} ({v['help']}) on {v['nodes']} nodes")
    lang = page.evaluate("document.documentElement.lang")
    check(lang in ("sv", "en"), f"{name}: lang attribute ({lang!r})")
    w = weigher.total()
    weights[name] = w
    check(w < LIMIT, f"{name}: weight {w} B < 150 KB")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    print(f"  {name:<34} {w / 1024:6.1f} KB  axe: {len(found)} issue(s), {len(serious)} serious/critical")
    weigher.reset()


def go(page, weigher, path, name):
    weigher.reset()
    resp = page.goto(BASE + path)
    check(resp is not None and resp.status < 400, f"{name}: {path} answers {resp.status if resp else None}")
    audit(page, weigher, name)


def sign_in(page, weigher, label, shot=None):
    weigher.reset()
    page.goto(BASE + "/login")
    if shot:
        audit(page, weigher, shot)
    page.get_by_role("button", name=label).click()
    page.wait_for_load_state("load")


def sign_out(page, name):
    page.get_by_role("button", name=re.compile("Logga ut|Sign out")).click()
    page.wait_for_load_state("load")
    check("Utloggad" in page.content() or "Signed out" in page.content(), f"{name}: signed out")
    resp = page.goto(BASE + f"/companies/{ORG}")
    check("/login" in page.url, f"{name}: after sign-out a page asks to sign in ({page.url})")


def download(page, click, name):
    with page.expect_download() as d:
        click()
    f = d.value
    path = f.path()
    size = Path(path).stat().st_size if path else 0
    check(size > 0, f"{name}: download {f.suggested_filename} has bytes ({size})")
    return f.suggested_filename


def wait_ready(page, name):
    for _ in range(60):
        if page.locator("#download").count() > 0:
            return True
        time.sleep(0.5)
        page.reload()
    check(False, f"{name}: the extract became ready")
    return False


def company_user(browser):
    results["flows"] += 1
    print("flow: company user")
    ctx = browser.new_context(accept_downloads=True)
    page = ctx.new_page()
    w = Weigher(page)
    # Keyboard: the first Tab reaches the skip link, and focus is visible.
    page.goto(BASE + "/login")
    page.keyboard.press("Tab")
    check(page.evaluate("document.activeElement.className") == "skip", "login: first Tab is the skip link")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    check(outline not in ("none", ""), f"login: focus is visible ({outline})")
    sign_in(page, w, "Företagsanvändare (Demobygg)", shot="login")
    check(page.url.endswith(f"/companies/{ORG}"), f"user lands on the overview ({page.url})")
    audit(page, w, "user-overview")
    check(page.locator("svg.chart").count() == 3, "overview: three charts")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    audit(page, w, "user-overview-phone")
    scroll_w = page.evaluate("document.documentElement.scrollWidth")
    check(scroll_w <= 400, f"overview fits a phone's width ({scroll_w}px)")
    page.set_viewport_size({"width": 1280, "height": 900})
    go(page, w, f"/companies/{ORG}/people", "user-people")
    page.get_by_label("Sök på namn").fill("Åsa")
    page.get_by_role("button", name="Sök", exact=True).click()
    audit(page, w, "user-people-search")
    check("Åsa" in page.content(), "people: search by name finds Åsa")
    page.get_by_role("link", name=re.compile("Åsa")).first.click()
    audit(page, w, "user-person")
    check("Arbetspass per dag" in page.content(), "person: sessions by day")
    go(page, w, f"/companies/{ORG}/sites/STH2026000001", "user-site")
    check("På plats nu" in page.content(), "site: present now")
    go(page, w, f"/companies/{ORG}/anomalies", "user-anomalies")
    page.get_by_label("Typ").select_option("duplicate")
    page.get_by_role("button", name="Visa").click()
    audit(page, w, "user-anomalies-filtered")
    check("kind=duplicate" in page.url, "anomalies: filter by kind")
    for g in ("day", "week", "month"):
        go(page, w, f"/companies/{ORG}/statistics?granularity={g}", f"user-statistics-{g}")
    name = download(page, lambda: page.get_by_role("link", name="Ladda ner som CSV").click(), "statistics CSV")
    check(name.endswith(".csv"), f"statistics: CSV file name ({name})")
    go(page, w, f"/companies/{ORG}/extracts", "user-extracts")
    page.get_by_label("Underlag till Skatteverket").check()
    page.locator("#from").fill("2026-11-01")
    page.locator("#to").fill("2026-11-30")
    page.get_by_label("Format").select_option("csv")
    page.get_by_role("button", name="Beställ").click()
    page.wait_for_load_state("load")
    if wait_ready(page, "user extract"):
        audit(page, w, "user-extract-ready")
        download(page, lambda: page.locator("#download").click(), "authority extract")
    # A form error next to its field, keeping what was typed.
    go(page, w, f"/companies/{ORG}/extracts", "user-extracts-again")
    page.get_by_label("Underlag till Skatteverket").check()
    page.locator("#from").fill("2026-11-01")
    page.get_by_role("button", name="Beställ").click()
    page.wait_for_load_state("load")
    audit(page, w, "user-extracts-error")
    check(page.locator("#to-error").count() == 1, "extracts: the missing 'to' is flagged next to its field")
    check(page.locator("#from").input_value() == "2026-11-01", "extracts: what was typed is kept")
    # A page of a company the user has no access to: a 403 page in Swedish.
    resp = page.goto(BASE + "/companies/5560360793")
    check(resp.status == 403 and "Åtkomst nekad" in page.content(), "another company: 403 page")
    audit(page, w, "user-403")
    resp = page.goto(BASE + f"/companies/{ORG}/people/nobody")
    check(resp.status == 404, "unknown person: 404 page")
    audit(page, w, "user-404")
    go(page, w, "/privacy", "user-privacy")
    # English, remembered.
    page.goto(BASE + f"/companies/{ORG}")
    page.get_by_role("link", name="In English").click()
    page.wait_for_load_state("load")
    check(page.evaluate("document.documentElement.lang") == "en", "language: English on request")
    audit(page, w, "user-overview-en")
    page.goto(BASE + f"/companies/{ORG}/people")
    check("Search by name" in page.content(), "language: English remembered")
    page.get_by_role("link", name="På svenska").click()
    sign_out(page, "user")
    ctx.close()


def employee(browser):
    results["flows"] += 1
    print("flow: employee")
    ctx = browser.new_context(accept_downloads=True)
    page = ctx.new_page()
    w = Weigher(page)
    sign_in(page, w, "Anställd (en person i Demobygg)")
    check(page.url.endswith("/me"), f"employee lands on own registrations ({page.url})")
    audit(page, w, "employee-me")
    check("Demobygg" in page.content(), "employee: registrations at the demo company")
    page.get_by_role("button", name="Beställ").click()
    page.wait_for_load_state("load")
    if wait_ready(page, "own extract"):
        audit(page, w, "employee-extract-ready")
        download(page, lambda: page.locator("#download").click(), "own register extract")
    resp = page.goto(BASE + f"/companies/{ORG}")
    check(resp.status == 403, "employee: no company pages")
    sign_out(page, "employee")
    ctx.close()


def operator(browser):
    results["flows"] += 1
    print("flow: operator")
    ctx = browser.new_context()
    page = ctx.new_page()
    w = Weigher(page)
    sign_in(page, w, "Operatör")
    check(page.url.endswith("/operator/partners"), f"operator lands on partners ({page.url})")
    audit(page, w, "operator-partners")
    page.get_by_label("Partner-id").fill("browser-partner")
    page.get_by_label("Namn", exact=True).fill("Webbläsarpartner AB")
    page.get_by_role("button", name="Ackreditera en partner").click()
    page.wait_for_load_state("load")
    check("browser-partner" in page.content(), "operator: partner accredited")
    page.get_by_role("button", name="Stäng av browser-partner").click()
    page.wait_for_load_state("load")
    check(page.get_by_role("button", name="Återaktivera browser-partner").count() == 1, "operator: partner suspended")
    audit(page, w, "operator-partner-suspended")
    page.get_by_role("button", name="Återaktivera browser-partner").click()
    page.wait_for_load_state("load")
    # The same id again: the conflict is shown, what was typed kept.
    page.get_by_label("Partner-id").fill("browser-partner")
    page.get_by_label("Namn", exact=True).fill("Igen")
    page.get_by_role("button", name="Ackreditera en partner").click()
    page.wait_for_load_state("load")
    check("redan ackrediterat" in page.content(), "operator: duplicate partner id explained")
    go(page, w, "/operator/announcements", "operator-announcements")
    page.get_by_label("Sort").select_option("planned_outage")
    page.get_by_label("Rubrik").fill("Planerat underhåll")
    page.get_by_label("Text").fill("Stamp uppdateras på söndag natt.")
    page.get_by_role("button", name="Publicera").click()
    page.wait_for_load_state("load")
    check(page.locator(".announcements").count() == 1 and "Planerat underhåll" in page.content(), "announcement: banner shows")
    audit(page, w, "operator-announced")
    sign_out(page, "operator")
    ctx.close()


def company_admin(browser):
    results["flows"] += 1
    print("flow: company admin")
    ctx = browser.new_context()
    page = ctx.new_page()
    w = Weigher(page)
    sign_in(page, w, "Företagsadministratör (Demobygg)")
    audit(page, w, "admin-overview")
    check(page.locator(".announcements").count() == 1, "admin: the operator's announcement shows on every page")
    go(page, w, f"/companies/{ORG}/users", "admin-users")
    page.get_by_label("Användar-id (sub)").fill("browser-user")
    page.get_by_role("button", name="Ge en användare åtkomst").click()
    page.wait_for_load_state("load")
    check("browser-user" in page.content(), "admin: grant recorded")
    # A grant takes effect: without it the company user is refused, with it let in.
    user_ctx = browser.new_context()
    user = user_ctx.new_page()
    uw = Weigher(user)
    sign_in(user, uw, "Företagsanvändare (Demobygg)")
    check(user.url.endswith(f"/companies/{ORG}"), "company user signed in")
    page.get_by_role("button", name="Ta bort demo-user").click()
    page.wait_for_load_state("load")
    resp = user.goto(BASE + f"/companies/{ORG}")
    check(resp.status == 403, f"grant removed: the user is refused ({resp.status})")
    page.get_by_label("Användar-id (sub)").fill("demo-user")
    page.get_by_role("button", name="Ge en användare åtkomst").click()
    page.wait_for_load_state("load")
    resp = user.goto(BASE + f"/companies/{ORG}")
    check(resp.status == 200, f"grant made: the user is let in ({resp.status})")
    user_ctx.close()
    audit(page, w, "admin-users-granted")
    go(page, w, f"/companies/{ORG}/activation", "admin-activation")
    check("2026-01" in page.content(), "activation: terms version shown")
    go(page, w, f"/companies/{ORG}/legal-holds", "admin-holds")
    page.get_by_label("Byggarbetsplats").fill("STH2026000001")
    page.get_by_label("Skäl").fill("Tvist med underentreprenör")
    page.get_by_role("button", name="Nytt bevarandebeslut").click()
    page.wait_for_load_state("load")
    check("Tvist med underentreprenör" in page.content(), "legal hold placed")
    audit(page, w, "admin-holds-placed")
    page.get_by_role("button", name="Häv").first.click()
    page.wait_for_load_state("load")
    check("Hävt" in page.content(), "legal hold lifted")
    # Inspection links: made, shown once, opened by an inspector's fresh browser, revoked.
    go(page, w, f"/companies/{ORG}/inspections", "admin-inspections")
    page.get_by_label("Byggarbetsplats").select_option("STH2026000001")
    page.get_by_label("Anteckning").fill("Kontrollbesök")
    page.get_by_role("button", name="Skapa länk").click()
    page.wait_for_load_state("load")
    link = page.locator("#made-link").input_value()
    check("/inspect/" in link, f"inspection link shown once ({len(link)} chars)")
    audit(page, w, "admin-inspections-made")
    insp_ctx = browser.new_context()
    insp = insp_ctx.new_page()
    iw = Weigher(insp)
    insp.goto(link)
    check(insp.url.endswith("/inspect"), f"inspector: the secret leaves the address bar ({insp.url.split('/inspect')[0]}…)")
    check("Inspektion av personalliggare" in insp.content(), "inspector: the site page")
    audit(insp, iw, "inspector-site")
    insp.goto(BASE + "/inspect?lang=en")
    audit(insp, iw, "inspector-site-en")
    page.get_by_role("button", name=re.compile("^Återkalla")).first.click()
    page.wait_for_load_state("load")
    check("Återkallad" in page.content(), "inspection link revoked")
    resp = insp.goto(BASE + "/inspect")
    check(resp.status == 401, f"inspector: refused after revocation ({resp.status})")
    audit(insp, iw, "inspector-refused")
    insp_ctx.close()
    # Notifications: reached from the admin navigation; the test message without settings
    # is explained; a bad address is flagged at its field with the text kept; a valid
    # save shows the webhook's signing secret once; the test message lists deliveries.
    page.goto(BASE + f"/companies/{ORG}")
    page.get_by_role("link", name="Aviseringar").click()
    page.wait_for_load_state("load")
    check(page.url.endswith(f"/companies/{ORG}/notifications"), f"notifications: in the admin nav ({page.url})")
    audit(page, w, "admin-notifications")
    page.get_by_role("button", name="Skicka ett testmeddelande").click()
    page.wait_for_load_state("load")
    check("Spara en webhook-adress" in page.content(), "notifications: a test message without settings is explained")
    audit(page, w, "admin-notifications-no-settings")
    page.locator("#email_0").fill("drift@demobygg.example")
    page.locator("#email_1").fill("inte-en-adress")
    page.get_by_label("Daglig sammanfattning kl. 06.00").check()
    page.get_by_role("button", name="Spara inställningar").click()
    page.wait_for_load_state("load")
    check(page.locator("#email_1-error").count() == 1, "notifications: the bad address is flagged at its field")
    check(page.locator("#email_1").input_value() == "inte-en-adress", "notifications: what was typed is kept")
    audit(page, w, "admin-notifications-error")
    page.locator("#email_1").fill("chef@demobygg.example")
    # Nothing listens on port 9: the webhook's attempt is recorded as unanswered.
    page.get_by_label("Webhook-adress (https)").fill("http://127.0.0.1:9/hook")
    page.get_by_role("button", name="Spara inställningar").click()
    page.wait_for_load_state("load")
    secret = page.locator("#webhook-secret")
    check(secret.count() == 1 and secret.input_value().startswith("whsec_"), "notifications: the signing secret is shown once")
    audit(page, w, "admin-notifications-saved")
    page.get_by_role("button", name="Skicka ett testmeddelande").click()
    page.wait_for_load_state("load")
    check(page.locator("#test-sent").count() == 1, "notifications: test message sent")
    check("chef@demobygg.example" in page.content() and "127.0.0.1:9" in page.content(), "notifications: deliveries listed")
    check(page.locator("#webhook-secret").count() == 0, "notifications: the secret is not shown again")
    audit(page, w, "admin-notifications-test")
    go(page, w, f"/companies/{ORG}/notifications?lang=en", "admin-notifications-en")
    check("Send a test message" in page.content(), "notifications: in English")
    page.get_by_role("link", name="På svenska").click()
    page.wait_for_load_state("load")
    # The archive check: the demo's archive verified at start-up, no mismatches.
    page.get_by_role("link", name="Arkivkontroll").click()
    page.wait_for_load_state("load")
    check(page.url.endswith(f"/companies/{ORG}/verification"), f"verification: in the admin nav ({page.url})")
    check(page.locator("#verify-ok").count() == 1, "verification: the demo archive has no mismatches")
    audit(page, w, "admin-verification")
    go(page, w, f"/companies/{ORG}/audit", "admin-audit")
    check("GET /v1/companies/{orgnr}/people" in page.content(), "audit: page views recorded as API actions")
    # Deregistration last: it ends the demo company's deliveries.
    go(page, w, f"/companies/{ORG}/activation", "admin-activation-again")
    page.get_by_label("Jag förstår och vill avregistrera företaget").check()
    page.get_by_role("button", name="Avregistrera").click()
    page.wait_for_load_state("load")
    check("Kvitto på avregistrering" in page.content(), "deregistration receipt")
    audit(page, w, "admin-deregistration-receipt")
    sign_out(page, "admin")
    ctx.close()


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS, headless=True)
        for flow in (company_user, employee, operator, company_admin):
            try:
                flow(browser)
            except Exception as e:  # a flow that breaks is a failure, the others still run
                failures.append(f"{flow.__name__}: {e}")
                print(f"  FAIL {flow.__name__}: {e}")
        browser.close()
    heaviest = max(weights.items(), key=lambda kv: kv[1]) if weights else ("-", 0)
    print(
        f"\nportal browser tests: {results['flows']} flows, {results['pages']} pages checked with axe, "
        f"{results['checks']} checks; axe violations: critical {results['critical']}, serious {results['serious']}, "
        f"moderate {results['moderate']}, minor {results['minor']}; heaviest page {heaviest[0]} {heaviest[1] / 1024:.1f} KB; "
        f"screenshots in {SHOTS}"
    )
    if failures:
        print(f"{len(failures)} failure(s):")
        for f in failures:
            print(f"  - {f}")
        sys.exit(1)


if __name__ == "__main__":
    main()
