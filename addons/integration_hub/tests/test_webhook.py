import json
import logging
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import psycopg2

from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .. import signatures
from ..decimals import DECIMAL_URN
from .common import HMAC_SECRET, OTHER_SECRET, IntegrationHubCase, contact_event, signed_headers
from .test_pure import ed25519_keys


@tagged("post_install", "-at_install")
class TestWebhook(IntegrationHubCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()

    def _post(self, body, headers=None, token=None, secret=HMAC_SECRET):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        if headers is None:
            headers = signed_headers(body, secret)
        url = f"/integration/webhook/{token or self.endpoint.token}"
        return self.url_open(url, data=body, headers=headers, allow_redirects=False)

    def _messages(self, endpoint=None):
        return self.env["integration.message"].search(
            [("endpoint_id", "=", (endpoint or self.endpoint).id)]
        )

    def assertRefused(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        self.assertEqual(response.json()["code"], code)
        self.assertNotIn("Traceback", response.text)
        self.assertFalse(self._messages(), "a refused request must store no message")

    def test_webhook_valid_v1_signature_stores_message_and_job_then_202(self):
        response = self._post(contact_event("C-1", "Northside Clinic"))
        self.assertEqual(response.status_code, 202, response.text)
        message = self._messages()
        self.assertEqual(response.json(), {"id": message.id, "status": "queued"})
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.event_type_id, self.contact_type)
        self.assertEqual(message.ordering_key, "contact:C-1", "the event type's ordering key")
        self.assertEqual(message.sender_message_id, json.loads(message.headers)["webhook-id"])
        self.assertEqual(message.job_id.state, "pending")
        self.assertEqual(message.job_state, "pending")
        self.assertEqual(message.job_id.channel, self.backend.channel_id.complete_name)
        self.assertEqual(
            message.job_id.records, message, "the job takes the message, not its payload"
        )
        self.assertNotIn("Northside", message.job_id.args.__repr__() + repr(message.job_id.kwargs))
        self.assertNotIn("webhook-signature", json.loads(message.headers))

    def test_webhook_valid_v1a_ed25519_signature_is_accepted(self):
        private, public = ed25519_keys()
        endpoint = self._create_endpoint(self.backend, secret=public, scheme="v1a")
        body = json.dumps(contact_event()).encode()
        headers = signed_headers(body)
        headers["webhook-signature"] = signatures.sign_ed25519(
            private, headers["webhook-id"], headers["webhook-timestamp"], body
        )
        response = self._post(body, headers=headers, token=endpoint.token)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(len(self._messages(endpoint)), 1)

    def test_webhook_wrong_signature_returns_401(self):
        self.assertRefused(
            self._post(contact_event(), secret=OTHER_SECRET), 401, "invalid_signature"
        )

    def test_webhook_body_changed_after_signing_returns_401(self):
        headers = signed_headers(json.dumps(contact_event(name="A")).encode())
        self.assertRefused(
            self._post(contact_event(name="B"), headers=headers), 401, "invalid_signature"
        )

    def test_webhook_missing_headers_return_401(self):
        body = json.dumps(contact_event()).encode()
        for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            headers = signed_headers(body)
            del headers[missing]
            with self.subTest(missing=missing):
                self.assertRefused(self._post(body, headers=headers), 401, "missing_signature")

    def test_webhook_rotated_secret_old_and_new_accepted_expired_refused(self):
        self.env["integration.endpoint.secret"].create(
            {"endpoint_id": self.endpoint.id, "scheme": "v1", "secret": OTHER_SECRET}
        )
        for secret in (HMAC_SECRET, OTHER_SECRET):
            with self.subTest(secret=secret[:10]):
                self.assertEqual(self._post(contact_event(), secret=secret).status_code, 202)
        old = self.endpoint.secret_ids.filtered(lambda s: s.hint == "…" + HMAC_SECRET[-4:])
        old.expire_date = datetime.now() - timedelta(minutes=1)
        response = self._post(contact_event(), secret=HMAC_SECRET)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["code"], "invalid_signature")

    def test_webhook_stale_timestamp_returns_400(self):
        body = json.dumps(contact_event()).encode()
        stale = datetime.now(UTC) - timedelta(seconds=301)
        self.assertRefused(
            self._post(body, headers=signed_headers(body, timestamp=stale)), 400, "stale_timestamp"
        )

    def test_webhook_future_timestamp_returns_400(self):
        body = json.dumps(contact_event()).encode()
        future = datetime.now(UTC) + timedelta(minutes=6)
        self.assertRefused(
            self._post(body, headers=signed_headers(body, timestamp=future)),
            400,
            "future_timestamp",
        )

    def test_webhook_replayed_id_returns_200_duplicate_and_creates_no_second_partner(self):
        body = json.dumps(contact_event("C-9", "Once Only")).encode()
        headers = signed_headers(body)
        first = self._post(body, headers=headers)
        self.assertEqual(first.status_code, 202)
        self._perform_job(self._messages())
        second = self._post(body, headers=headers)
        self.assertEqual(second.status_code, 200, second.text)
        self.assertEqual(second.json(), {"id": first.json()["id"], "status": "duplicate"})
        message = self._messages()
        self.assertEqual(len(message), 1)
        message.invalidate_recordset()
        self.assertEqual(message.duplicate_count, 1)
        self.assertEqual(len(message.job_id), 1, "a duplicate enqueues nothing")
        self.assertEqual(len(self._partners("C-9")), 1)

    def test_webhook_same_id_with_other_body_returns_409_and_is_not_processed(self):
        headers = signed_headers(json.dumps(contact_event(name="A")).encode())
        self.assertEqual(self._post(contact_event(name="A"), headers=headers).status_code, 202)
        body = json.dumps(contact_event(name="B")).encode()
        conflicting = signed_headers(body, msg_id=headers["webhook-id"])
        with self.assertLogs("odoo.addons.integration_hub.security", "WARNING"):
            response = self._post(body, headers=conflicting)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["code"], "webhook_id_conflict")
        self.assertEqual(len(self._messages()), 1)

    def test_webhook_malformed_json_returns_400(self):
        self.assertRefused(
            self._post(b'{"type": "contact.upserted", "data": '), 400, "malformed_json"
        )
        # Signed with our signer: the standardwebhooks library signs text only.
        utf16 = json.dumps(contact_event()).encode("utf-16")
        headers = signed_headers(b"{}")
        headers["webhook-signature"] = signatures.sign_hmac(
            HMAC_SECRET, headers["webhook-id"], headers["webhook-timestamp"], utf16
        )
        self.assertRefused(self._post(utf16, headers=headers), 400, "malformed_json")

    def test_webhook_long_correlation_id_is_cut_not_refused(self):
        body = json.dumps(contact_event()).encode()
        headers = dict(signed_headers(body), **{"X-Correlation-ID": "c" * 5000})
        self.assertEqual(self._post(body, headers=headers).status_code, 202)
        message = self._messages()
        self.assertEqual(message.correlation_id, "c" * 255)
        self.assertEqual(len(json.loads(message.headers)["x-correlation-id"]), 1024)

    def test_webhook_too_deep_or_too_long_json_returns_400(self):
        deep = {"type": "contact.upserted", "data": {"id": "1", "name": "x"}}
        node = deep["data"]
        for _level in range(40):
            node["extra"] = {}
            node = node["extra"]
        self.assertRefused(self._post(deep), 400, "payload_too_complex")
        long_array = contact_event(tags=list(range(10_001)))
        self.assertRefused(self._post(long_array), 400, "payload_too_complex")

    def test_webhook_data_breaking_the_schema_returns_400_with_the_field(self):
        response = self._post({"type": "contact.upserted", "data": {"id": "C-1"}})
        self.assertRefused(response, 400, "invalid_data")
        self.assertIn("'name' is a required property", response.json()["message"])

    def test_webhook_refused_decimal_returns_400_with_the_field_path(self):
        amounts = self.env["integration.event.type"].create(
            {
                "code": "test.amount.recorded",
                "name": "Test amount",
                "handler_model": "integration.handler.contact",
                "schema_json": json.dumps(
                    {
                        "type": "object",
                        "properties": {
                            "lines": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {"amount": {"$ref": DECIMAL_URN}},
                                },
                            }
                        },
                    }
                ),
            }
        )
        endpoint = self._create_endpoint(self.backend, event_type_ids=[(6, 0, amounts.ids)])
        for amount in ("1e3", "1_000", "0.12345", "-1.00", 12.5):
            with self.subTest(amount=amount):
                event = {"type": "test.amount.recorded", "data": {"lines": [{"amount": amount}]}}
                response = self._post(event, token=endpoint.token)
                self.assertRefused(response, 400, "invalid_data")
                self.assertIn("lines/0/amount", response.json()["message"])
        self.assertFalse(self._messages(endpoint), "a refused value never reaches a handler")
        event = {"type": "test.amount.recorded", "data": {"lines": [{"amount": "12.50"}]}}
        self.assertEqual(self._post(event, token=endpoint.token).status_code, 202)

    def test_webhook_wrong_content_type_returns_415(self):
        body = json.dumps(contact_event()).encode()
        headers = dict(signed_headers(body), **{"Content-Type": "text/plain"})
        self.assertRefused(self._post(body, headers=headers), 415, "unsupported_content_type")

    def test_webhook_oversized_body_returns_413(self):
        self.endpoint.max_body_bytes = 200
        self.assertRefused(self._post(contact_event(name="x" * 300)), 413, "payload_too_large")

    def test_webhook_unknown_token_returns_404(self):
        self.assertRefused(
            self._post(contact_event(), token="no-such-endpoint-token"), 404, "unknown_endpoint"
        )

    def test_webhook_archived_endpoint_returns_404(self):
        self.endpoint.active = False
        self.assertRefused(self._post(contact_event()), 404, "unknown_endpoint")

    def test_webhook_draft_backend_returns_404(self):
        self.backend.state = "draft"
        self.assertRefused(self._post(contact_event()), 404, "unknown_endpoint")

    def test_webhook_get_returns_405(self):
        response = self.url_open(f"/integration/webhook/{self.endpoint.token}")
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response.json()["code"], "method_not_allowed")

    def test_webhook_rate_limit_returns_429_after_the_limit(self):
        self.endpoint.rate_limit_per_minute = 3
        statuses = [self._post(contact_event(f"C-{n}")).status_code for n in range(5)]
        self.assertEqual(statuses, [202, 202, 202, 429, 429])
        response = self._post(contact_event("C-9"))
        self.assertEqual(response.json()["code"], "rate_limited")
        self.assertEqual(response.headers["Retry-After"], "60")
        self.assertEqual(len(self._messages()), 3)

    def test_webhook_ip_outside_allowlist_returns_403(self):
        self.endpoint.ip_allowlist = "203.0.113.0/24"
        self.assertRefused(self._post(contact_event()), 403, "ip_not_allowed")
        self.endpoint.ip_allowlist = "203.0.113.0/24, 127.0.0.0/8"
        self.assertEqual(self._post(contact_event()).status_code, 202)

    def test_webhook_refusals_are_counted_for_monitoring(self):
        self._post(contact_event(), secret=OTHER_SECRET)
        self._post(contact_event(), secret=OTHER_SECRET)
        self._post(contact_event())
        self.endpoint.invalidate_recordset()
        self.assertEqual(self.endpoint.rejected_count_24h, 2)
        self.assertEqual(self.endpoint.request_count_24h, 1)

    def test_webhook_event_type_not_accepted_is_stored_ignored_and_replayable_once_accepted(self):
        self.endpoint.event_type_ids = False
        response = self._post(contact_event("C-5", "Later"))
        self.assertEqual(response.status_code, 202)
        self.assertEqual(response.json()["status"], "ignored")
        message = self._messages()
        self.assertEqual(message.state, "ignored")
        self.assertFalse(message.job_id)
        with self.assertRaisesRegex(Exception, "does not accept contact.upserted"):
            message.action_replay()
        self.endpoint.event_type_ids = self.contact_type
        message.action_replay()
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(self._partners("C-5").name, "Later")

    def test_health_without_credentials_answers_only_ok(self):
        self.assertEqual(self._post(contact_event()).status_code, 202)
        response = self.url_open("/integration/health")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "database": "ok"})

    def test_health_and_metrics_answer_a_wrong_method_with_json_405(self):
        for route in ("/integration/health", "/integration/metrics"):
            with self.subTest(route=route):
                response = self.url_open(route, data=b"{}")
                self.assertEqual(response.status_code, 405)
                self.assertEqual(response.json()["code"], "method_not_allowed")
                self.assertEqual(response.headers["Allow"], "GET")

    def test_health_backlog_needs_the_metrics_token(self):
        self.assertEqual(self._post(contact_event()).status_code, 202)
        with patch.dict(config.options, {"integration_hub_metrics_token": "s3cret-metrics"}):
            wrong = self.url_open("/integration/health", headers={"Authorization": "Bearer no"})
            self.assertEqual((wrong.status_code, wrong.json()["code"]), (401, "invalid_token"))
            self.assertNotIn("backlog", wrong.json())
            response = self.url_open(
                "/integration/health", headers={"Authorization": "Bearer s3cret-metrics"}
            )
        self.assertEqual(response.status_code, 200)
        health = response.json()
        self.assertEqual(health["status"], "ok")
        self.assertGreaterEqual(health["backlog"]["queued"], 1)
        self.assertGreaterEqual(health["oldest_queued_age_seconds"], 0)

    # Input that breaks nothing ---------------------------------------------------------

    def test_webhook_control_characters_in_stored_headers_return_400(self):
        body = json.dumps(contact_event()).encode()
        for header, value in (
            ("webhook-id", "msg_\x00nul"),
            ("webhook-id", "msg_\x1bescape"),
            ("X-Correlation-ID", "corr\x00nul"),
            ("User-Agent", "agent\x7f"),
            ("traceparent", "00-\x00"),
        ):
            with self.subTest(header=header, value=value):
                if header == "webhook-id":
                    headers = signed_headers(body, msg_id=value)
                else:
                    headers = dict(signed_headers(body), **{header: value})
                response = self._post(body, headers=headers)
                self.assertRefused(response, 400, "invalid_header")
                self.assertIn(header.lower(), response.json()["message"].lower())

    def test_webhook_json_outside_rfc_8259_returns_400_malformed_json(self):
        envelope = '{"type": "contact.upserted", "data": {"id": "C-1", "name": %s}}'
        for value in (
            "NaN",
            "Infinity",
            "-Infinity",
            "1e400",
            "-1e400",
            "1" + "0" * 400,
            '"\\ud800"',
            '"a\\udc00b"',
            '"Jane\\u0000Doe"',
        ):
            with self.subTest(value=value[:20]):
                body = (envelope % value).encode()
                response = self._post(body)
                self.assertRefused(response, 400, "malformed_json")
        key = b'{"type": "contact.upserted", "data": {"id": "C-1", "name": "x", "a\\u0000": 1}}'
        self.assertRefused(self._post(key), 400, "malformed_json")
        # Escapes of real characters, surrogate pairs included, are fine.
        body = (envelope % '"Ren\\u00e9e \\ud83d\\ude00"').encode()
        self.assertEqual(self._post(body).status_code, 202)
        self.assertEqual(self._messages().event_type, "contact.upserted")

    def test_webhook_refusal_quotes_only_a_short_excerpt_of_the_value(self):
        response = self._post(contact_event(name="x" * 900_000))
        self.assertRefused(response, 400, "invalid_data")
        self.assertLess(len(response.content), 1000)
        self.assertIn("name: 'xxxxxxxx", response.json()["message"])
        self.assertIn("is too long", response.json()["message"])

    def test_access_log_masks_the_webhook_url_token(self):
        with self.assertLogs("werkzeug", level=logging.INFO) as logs:
            self.assertEqual(self._post(contact_event()).status_code, 202)
        log = "\n".join(logs.output)
        self.assertNotIn(self.endpoint.token, log)
        self.assertIn("/integration/webhook/***", log)

    # Errors answered as JSON -------------------------------------------------------

    def test_webhook_unexpected_error_returns_500_json_with_a_logged_reference(self):
        messages = type(self.env["integration.message"])
        with (
            patch.object(messages, "_store_inbound", side_effect=RuntimeError("boom")),
            self.assertLogs("odoo", level=logging.ERROR) as logs,
        ):
            response = self._post(contact_event())
        self.assertRefused(response, 500, "internal_error")
        reference = response.json()["reference"]
        self.assertTrue(any(reference in line for line in logs.output))
        self.assertNotIn("boom", response.text)

    def test_webhook_database_error_returns_503_json_with_retry_after(self):
        messages = type(self.env["integration.message"])
        error = psycopg2.OperationalError("server closed the connection unexpectedly")
        with (
            patch.object(messages, "_store_inbound", side_effect=error),
            self.assertLogs("odoo", level=logging.WARNING),
        ):
            response = self._post(contact_event())
        self.assertRefused(response, 503, "unavailable")
        self.assertEqual(response.headers["Retry-After"], "5")

    def test_webhook_concurrency_error_goes_back_to_odoos_retry_then_202(self):
        messages = type(self.env["integration.message"])
        original = messages._store_inbound
        calls = []

        def conflict_once(records, *args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                records.env.cr.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'conflict' "
                    "USING ERRCODE = 'serialization_failure'; END $$"
                )
            return original(records, *args, **kwargs)

        with (
            patch.object(messages, "_store_inbound", conflict_once),
            patch("random.uniform", return_value=0.0),
        ):
            response = self._post(contact_event())
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(len(calls), 2)
        self.assertEqual(len(self._messages()), 1)

    def test_metrics_need_the_configured_token_and_never_show_url_tokens(self):
        self.assertEqual(self._post(contact_event()).status_code, 202)
        self._post(contact_event(), secret=OTHER_SECRET)
        with patch.dict(config.options, {"integration_hub_metrics_token": ""}):
            response = self.url_open("/integration/metrics")
            self.assertEqual(
                (response.status_code, response.json()["code"]), (404, "metrics_disabled")
            )
        with patch.dict(config.options, {"integration_hub_metrics_token": "s3cret-metrics"}):
            for header in ({}, {"Authorization": "Bearer wrong"}):
                with self.subTest(header=header):
                    response = self.url_open("/integration/metrics", headers=header)
                    self.assertEqual(response.status_code, 401)
            response = self.url_open(
                "/integration/metrics", headers={"Authorization": "Bearer s3cret-metrics"}
            )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        metrics = response.text
        backend = f'backend="{self.backend.code}"'
        self.assertIn(f'integration_messages{{{backend},direction="in",state="queued"}} 1', metrics)
        labels = f'endpoint_id="{self.endpoint.id}",endpoint="{self.endpoint.name}"'
        self.assertIn(
            f'integration_webhook_requests_24h{{{labels},result="authenticated"}} 1', metrics
        )
        self.assertIn(f'integration_webhook_requests_24h{{{labels},result="refused"}} 1', metrics)
        self.assertIn("integration_oldest_pending_seconds ", metrics)
        self.assertNotIn(self.endpoint.token, metrics)
