"""What operators rely on without looking: the scheduled actions as ir.cron runs them,
the open-exceptions metric, IP allowlists behind a proxy and with IPv6, and the
service user that never logs in."""

import json
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .common import HMAC_SECRET, IntegrationHubCase, contact_event, signed_headers

PROXY = {"X-Forwarded-Host": "hub.example.org", "X-Forwarded-Proto": "https"}


@tagged("post_install", "-at_install")
class TestOperations(IntegrationHubCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()

    def _post(self, headers=None):
        body = json.dumps(contact_event()).encode()
        return self.url_open(
            f"/integration/webhook/{self.endpoint.token}",
            data=body,
            headers=dict(signed_headers(body, HMAC_SECRET), **(headers or {})),
        )

    def _run_cron(self, xmlid):
        """Run a scheduled action as ir.cron does: its server action, as its user."""
        cron = self.env.ref(xmlid)
        self.assertTrue(cron.active, f"{xmlid} is not active")
        self.env.flush_all()
        self.env.invalidate_all()  # what the SQL above changed, as a new transaction sees it
        cron.method_direct_trigger()
        self.env.invalidate_all()

    # Scheduled actions -------------------------------------------------------------

    def test_request_stats_cron_forgets_windows_older_than_30_days_only(self):
        self.env.cr.execute(
            """INSERT INTO integration_endpoint_stat (endpoint_id, window_start, requests)
               VALUES (%(id)s, date_trunc('minute', now() at time zone 'utc')
                                 - interval '31 days', 7),
                      (%(id)s, date_trunc('minute', now() at time zone 'utc')
                                 - interval '29 days', 5)""",
            {"id": self.endpoint.id},
        )
        self._run_cron("integration_hub.ir_cron_integration_endpoint_gc_stats")
        self.env.cr.execute(
            "SELECT requests FROM integration_endpoint_stat WHERE endpoint_id = %s",
            (self.endpoint.id,),
        )
        self.assertEqual(self.env.cr.fetchall(), [(5,)])

    def test_reconcile_cron_marks_a_message_whose_job_failed_dead(self):
        message = self._create_message()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE queue_job SET state = 'failed', exc_name = 'JobFoundDead' WHERE id = %s",
            (message.job_id.id,),
        )
        self._run_cron("integration_hub.ir_cron_integration_message_reconcile_jobs")
        self.assertEqual(message.state, "dead")
        self.assertIn("its worker stopped too many times", message.last_error)
        self.assertNotIn("JobFoundDead", message.last_error, "no class names on screen")

    def test_retention_cron_deletes_messages_past_the_backend_retention(self):
        self.backend.payload_retention_days = 30
        old, recent = self._create_message(), self._create_message(contact_event("C-2"))
        for message in (old, recent):
            self._perform_job(message)
        self.env.cr.execute(
            "UPDATE integration_message SET write_date = now() - interval '31 days' WHERE id = %s",
            (old.id,),
        )
        self._run_cron("integration_hub.ir_cron_integration_message_purge_payloads")
        self.assertFalse(old.exists(), "retention deletes the whole message")
        self.assertTrue(recent.payload)

    # Metrics ---------------------------------------------------------------------------

    def test_metrics_count_open_and_in_progress_exceptions_per_backend(self):
        messages = [
            self._create_message(contact_event(f"X-{n}", "Border", country_code="ZZ"))
            for n in range(3)
        ]
        for message in messages:
            self._perform_job(message)
        self.assertEqual([m.state for m in messages], ["exception"] * 3)
        messages[1].exception_ids.action_retry()  # in progress: still waiting
        messages[2].exception_ids.action_ignore()  # closed by a person
        self.env.flush_all()
        with patch.dict(config.options, {"integration_hub_metrics_token": "m-token"}):
            response = self.url_open(
                "/integration/metrics", headers={"Authorization": "Bearer m-token"}
            )
        self.assertEqual(response.status_code, 200)
        lines = [
            line
            for line in response.text.splitlines()
            if line.startswith("integration_open_exceptions{")
        ]
        self.assertIn(f'integration_open_exceptions{{backend="{self.backend.code}"}} 2', lines)

    # IP allowlists ----------------------------------------------------------------------

    def test_allowlist_sees_the_forwarded_client_only_behind_proxy_mode(self):
        self.endpoint.ip_allowlist = "203.0.113.0/24"
        forwarded = dict(PROXY, **{"X-Forwarded-For": "203.0.113.7"})
        with patch.dict(config.options, {"proxy_mode": False}):
            # Without proxy_mode a forwarded address is the caller's claim: ignored.
            response = self._post(forwarded)
            self.assertEqual(
                (response.status_code, response.json()["code"]), (403, "ip_not_allowed")
            )
        with patch.dict(config.options, {"proxy_mode": True}):
            self.assertEqual(self._post(forwarded).status_code, 202)
            other = dict(PROXY, **{"X-Forwarded-For": "198.51.100.9"})
            response = self._post(other)
            self.assertEqual(
                (response.status_code, response.json()["code"]), (403, "ip_not_allowed")
            )
            # The proxy itself (loopback) is not the client: not let through either.
            self.assertEqual(self._post().status_code, 403)

    def test_allowlist_matches_ipv6_clients(self):
        self.endpoint.ip_allowlist = "2001:db8:10::/48\n203.0.113.0/24"
        with patch.dict(config.options, {"proxy_mode": True}):
            for address, status in (
                ("2001:db8:10::25", 202),
                ("2001:db8:11::25", 403),
                ("::ffff:198.51.100.9", 403),
            ):
                with self.subTest(address=address):
                    response = self._post(dict(PROXY, **{"X-Forwarded-For": address}))
                    self.assertEqual(response.status_code, status, response.text)

    # The service user -------------------------------------------------------------------

    def test_the_service_user_cannot_log_in_even_with_a_password(self):
        hub_user = self.env.ref("integration_hub.user_integration_hub")
        self.assertFalse(hub_user.active)
        self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", (hub_user.id,))
        self.assertFalse(self.env.cr.fetchone()[0], "the service user has no password")
        # Even if someone gives it one, an inactive user is refused at login.
        hub_user.sudo().password = "S3rvice-user-pass"
        self.env.flush_all()
        response = self.url_open(
            "/web/session/authenticate",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "db": self.env.cr.dbname,
                        "login": "__integration_hub__",
                        "password": "S3rvice-user-pass",
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        answer = response.json()
        self.assertNotIn("result", answer)
        self.assertIn("AccessDenied", answer["error"]["data"]["name"])
