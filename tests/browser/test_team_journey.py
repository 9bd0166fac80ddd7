"""A team's first day, in a real browser against the real server and a real agent (issue 10).

Each step asserts on what the page shows. Screenshots of the main pages land in
var/screenshots/ (kept as a CI artifact).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.support import BrowserServer, MailSink, agent_process
from tests.support.processes import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

OWNER = "owner@acme-browser.test"
TEAMMATE = "teammate@acme-browser.test"
PASSWORD = "correct-horse-battery-7"
ORG, WS = "acme-browser", "production"
POOL = "browser-pool"
# Steps wait for an agent, a reporter flush and a live push on a loaded machine.
SLOW = 60_000

FLOWS = """
import time

from tether import flow, get_run_logger


@flow
def greet(who: str, steps: int = 3, pause: float = 1.0) -> str:
    logger = get_run_logger()
    for step in range(1, steps + 1):
        logger.info("step %s of %s: hello %s", step, steps, who)
        time.sleep(pause)
    return who
"""


def shot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def sign_up_and_verify(context: BrowserContext, server: BrowserServer, mail: MailSink, address: str) -> Page:
    page = context.new_page()
    page.goto(f"{server.url}/account/signup")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text(address)).to_be_visible()

    link = mail.link(address, r"http://localhost:\d+/account/verify-email/[^\s\"<]+")
    page.goto(link)
    page.get_by_role("button", name="Confirm email address").click()
    expect(page.get_by_text("Your email address is verified.")).to_be_visible()
    page.get_by_role("link", name="Continue").click()
    return page


def browser_api(page: Page, method: str, path: str, body: dict[str, Any]) -> Any:
    """A call as the SPA makes it: the session cookie and the CSRF header."""
    csrf = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.fetch(
        page.url.split("/o/")[0] + path, method=method, data=body, headers={"X-CSRFToken": csrf}
    )
    assert response.ok, (response.status, response.text())
    return response.json()


def run_from_deployment(page: Page, server: BrowserServer, deployment_id: str, who: str, steps: int) -> None:
    page.goto(f"{server.url}/o/{ORG}/w/{WS}/deployments/{deployment_id}")
    form = page.get_by_role("form", name="Run deployment")
    form.get_by_label(re.compile(r"^who", re.I)).fill(who)
    form.get_by_label(re.compile(r"^steps", re.I)).fill(str(steps))
    form.get_by_label(re.compile(r"^pause", re.I)).fill("0.5")
    form.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/flow-runs/[0-9a-f-]{36}$"))


def state_pill(page: Page, state: str) -> Any:
    return page.locator(".toolbar").get_by_text(state, exact=True)


@pytest.mark.timeout(900)
def test_a_team_runs_its_flows_from_the_browser(
    browser: Browser, server: BrowserServer, mail: MailSink, screenshots: Path, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(20_000)

    # Sign up, verify the address from the email, create the organisation and workspace.
    page = sign_up_and_verify(context, server, mail, OWNER)
    expect(page.get_by_role("heading", name="Create your organisation")).to_be_visible()
    page.get_by_label("Organisation name").fill("Acme Browser")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(rf"/o/{ORG}/w/{WS}$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()  # the live socket is up
    shot(page, screenshots, "01-dashboard-empty")

    # Invite a member.
    page.goto(f"{server.url}/o/{ORG}/w/{WS}/settings?tab=invitations")
    invite = page.get_by_role("form", name="Invite a member")
    invite.get_by_label("Email").fill(TEAMMATE)
    invite.get_by_label(f"Role in {WS}").select_option("viewer")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("list", name="Pending invitations")).to_contain_text(TEAMMATE)
    shot(page, screenshots, "02-settings-invitations")

    # Create an API key: shown once, then only its prefix. Issuing keys needs a fresh password
    # sign-in (an email confirmation does not count), so sign out and in again first.
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{server.url}/account/login?next=/o/{ORG}/w/{WS}/settings%3Ftab%3Dapi-keys")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    page.goto(f"{server.url}/o/{ORG}/w/{WS}/settings?tab=api-keys")
    page.get_by_label("Key name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    new_key = page.get_by_role("region", name="New API key")
    expect(new_key).to_contain_text("shown only once")
    secret = page.get_by_test_id("api-key-secret").inner_text().strip()
    assert secret.startswith("tether_pat_"), secret
    shot(page, screenshots, "03-settings-api-key-shown-once")
    new_key.get_by_role("button", name="Done").click()
    expect(page.get_by_role("table")).to_contain_text("laptop")
    assert secret not in page.content()
    page.reload()
    assert secret not in page.content()

    # Register a deployment with the SDK's CLI, using that key; an agent (worker service account) serves its pool.
    api_url = f"{server.url}/api/v1/orgs/{ORG}/workspaces/{WS}"
    with httpx.Client(base_url=api_url + "/", headers={"Authorization": f"Bearer {secret}"}, timeout=30) as api:
        assert api.post("work-pools/", json={"name": POOL}).status_code == 201
    account = browser_api(page, "POST", f"/api/v1/orgs/{ORG}/service-accounts/", {"name": "agents"})
    browser_api(
        page,
        "POST",
        f"/api/v1/orgs/{ORG}/workspaces/{WS}/members/",
        {"service_account_id": account["id"], "role": "worker"},
    )
    agent_key = browser_api(
        page,
        "POST",
        f"/api/v1/orgs/{ORG}/service-accounts/{account['id']}/api-keys/",
        {"name": "agent", "workspace": WS},
    )["secret"]
    flow_dir = tmp_path / "flows"
    flow_dir.mkdir()
    (flow_dir / "flows.py").write_text(FLOWS)
    sdk_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TETHER_API_URL": api_url, "TETHER_API_KEY": secret}
    deploy_command = [sys.executable, "-m", "tether", "deploy", "flows.py:greet", "--name", "hello"]
    deploy_command += ["--pool", POOL, "--source", str(flow_dir)]
    deployed = subprocess.run(
        deploy_command,
        cwd=flow_dir,
        env={**sdk_env, "PYTHONPATH": str(REPO_ROOT / "agent" / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert deployed.returncode == 0, deployed.stderr
    deployment_id = re.search(r"\(([0-9a-f-]{36})\)", deployed.stdout).group(1)  # type: ignore[union-attr]

    page.goto(f"{server.url}/o/{ORG}/w/{WS}/deployments")
    expect(page.get_by_role("link", name="greet/hello")).to_be_visible()
    shot(page, screenshots, "04-deployments")

    with agent_process(api_url, agent_key, POOL, tmp_path) as agent:
        page.goto(f"{server.url}/o/{ORG}/w/{WS}/")
        agents_card = page.get_by_role("region", name="Agents")
        expect(agents_card).to_contain_text("1 of 1 agent online", timeout=SLOW)
        # Run it from the UI with a parameter; watch state and logs arrive without a reload.
        run_from_deployment(page, server, deployment_id, who="browser-test", steps=4)
        page.evaluate("window.__sameDocument = true")
        expect(state_pill(page, "Running")).to_be_visible(timeout=SLOW)
        expect(page.get_by_role("list", name="Log lines")).to_contain_text("hello browser-test", timeout=SLOW)
        shot(page, screenshots, "05-flow-run-live")
        expect(state_pill(page, "Completed")).to_be_visible(timeout=SLOW)
        expect(page.get_by_role("list", name="Log lines")).to_contain_text("step 4 of 4: hello browser-test")
        expect(page.get_by_role("list", name="State history")).to_contain_text("Running")
        assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
        shot(page, screenshots, "06-flow-run-completed")

        # Cancel a second run while it runs.
        run_from_deployment(page, server, deployment_id, who="to-cancel", steps=600)
        expect(state_pill(page, "Running")).to_be_visible(timeout=SLOW)
        page.get_by_role("button", name="Cancel run").click()
        expect(state_pill(page, "Cancelled")).to_be_visible(timeout=SLOW)
        shot(page, screenshots, "07-flow-run-cancelled")
        assert agent.process.poll() is None, agent.log()

    page.goto(f"{server.url}/o/{ORG}/w/{WS}/flow-runs")
    expect(page.get_by_role("table")).to_contain_text("Completed")
    expect(page.get_by_role("table")).to_contain_text("Cancelled")
    shot(page, screenshots, "08-flow-runs")

    # A block: create, then edit another field; the secret stays masked and keeps its value.
    page.goto(f"{server.url}/o/{ORG}/w/{WS}/blocks")
    page.get_by_role("link", name="New SMTP server block").click()
    page.get_by_label("Block name").fill("mailer")
    page.get_by_label(re.compile(r"^Host")).fill("mail.acme.test")
    page.get_by_label(re.compile(r"^Password")).fill("hunter2-canary")
    page.get_by_role("button", name="Create block").click()
    page.wait_for_url(re.compile(r"/blocks/[0-9a-f-]{36}$"))
    password = page.get_by_label(re.compile(r"^Password"))
    expect(password).to_have_value("********")
    expect(password).to_have_attribute("type", "password")
    page.get_by_label(re.compile(r"^Host")).fill("smtp.acme.test")
    page.get_by_role("button", name="Save block").click()
    expect(page.get_by_text("Saved. Secret fields stay masked.")).to_be_visible()
    page.reload()
    expect(page.get_by_label(re.compile(r"^Host"))).to_have_value("smtp.acme.test")
    expect(page.get_by_label(re.compile(r"^Password"))).to_have_value("********")
    assert "hunter2-canary" not in page.content()
    shot(page, screenshots, "09-block-masked")
    page.get_by_role("button", name="Reveal secrets").click()  # an owner holds blocks:reveal
    expect(page.get_by_label("Revealed values")).to_contain_text("hunter2-canary")

    # An automation from the guided form: failed runs of greet/hello send an email through the block.
    page.goto(f"{server.url}/o/{ORG}/w/{WS}/automations")
    expect(page.get_by_role("heading", name="No automations yet")).to_be_visible()
    page.get_by_role("link", name="New automation").click()
    create = page.get_by_role("form", name="Create automation")
    create.get_by_label("Name", exact=True).fill("Failed greets by mail")
    expect(create.get_by_label("Events")).to_have_value("tether.flow-run.Failed")
    create.get_by_label("About deployment").select_option(label="greet/hello")
    create.get_by_label("Notification block").select_option(label="mailer (SMTP server)")
    create.get_by_label("To", exact=True).fill("oncall@acme-browser.test")
    create.get_by_role("button", name="Create automation").click()
    page.wait_for_url(re.compile(r"/automations/[0-9a-f-]{36}$"))
    automation_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name="Failed greets by mail")).to_be_visible()
    expect(page.get_by_role("heading", name="Not fired yet")).to_be_visible()
    page.get_by_role("link", name="Automations", exact=True).click()
    row = page.get_by_role("row", name=re.compile("Failed greets by mail"))
    expect(row).to_contain_text("Enabled")
    expect(row).to_contain_text(f"When tether.flow-run.Failed (tether.resource.id=tether.deployment.{deployment_id})")
    expect(row).to_contain_text("send-notification")
    shot(page, screenshots, "10-automations")
    stored = page.request.get(f"{api_url}/automations/{automation_id}/")
    assert stored.ok, (stored.status, stored.text())
    assert stored.json()["trigger"] == {
        "type": "event",
        "expect": ["tether.flow-run.Failed"],
        "match_related": {"tether.resource.id": f"tether.deployment.{deployment_id}"},
    }
    assert stored.json()["actions"][0]["to"] == ["oncall@acme-browser.test"]
    row.get_by_role("button", name="Pause Failed greets by mail").click()
    expect(row).to_contain_text("Paused")

    # The teammate accepts the invitation; the owner changes their workspace role.
    teammate = browser.new_context()
    teammate.set_default_timeout(20_000)
    mate = sign_up_and_verify(teammate, server, mail, TEAMMATE)
    mate.goto(mail.link(TEAMMATE, r"http://localhost:\d+/invitations/accept\?token=[^\s\"<]+"))
    mate.get_by_role("button", name="Accept invitation").click()
    expect(mate.get_by_text("You joined the organisation as member.")).to_be_visible()
    teammate.close()

    page.goto(f"{server.url}/o/{ORG}/w/{WS}/settings?tab=members")
    role = page.get_by_label(re.compile(rf"^Workspace role of {re.escape(TEAMMATE)}"))
    expect(role).to_have_value("viewer")
    role.select_option("developer")
    page.wait_for_timeout(500)
    page.reload()
    expect(page.get_by_label(re.compile(rf"^Workspace role of {re.escape(TEAMMATE)}"))).to_have_value("developer")
    shot(page, screenshots, "11-settings-members")
    context.close()
