"""Who may do what in the hub, asked over JSON-RPC as each role (issue 15, findings 2 to
4): every model of the hub, the flows each role reads, the actions that act with
elevated rights, and patients. The tables below are the design; a model added to the
hub without a row here fails the test."""

import json
import uuid
from datetime import datetime

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.integration_hub import payload
from odoo.addons.integration_hub.exceptions import IntegrationBusinessError, UnmappedCodeError
from odoo.addons.integration_hub.tests.common import IntegrationHubCase, RpcMixin, signed_headers

from .test_demo import DEMO_SECRET, SAMPLES

ACCESS_ERROR = "odoo.exceptions.AccessError"

ROLES = {
    "internal": "base.group_user",
    "hub_user": "integration_hub.integration_hub_group_user",
    "hub_manager": "integration_hub.integration_hub_group_manager",
    "invoicing": "account.group_account_invoice",
    "stock": "stock.group_stock_user",
    "hr": "hr.group_hr_user",
}
# A hub manager and billing clerk of another company: sees nothing of this one.
OTHER_COMPANY = "integration_hub.integration_hub_group_manager,account.group_account_invoice"

# Model permissions: r(ead) w(rite) c(reate) u(nlink), "-" refused, per role as in ROLES.
# Records are further limited by the rules checked below (company, flow).
MODELS = [
    # model                               internal hub_user hub_manager invoicing stock  hr
    ("integration.alert",                  "----", "rw--", "rwcu", "----", "----", "----"),
    ("integration.alert.rule",             "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.appointment",            "----", "r---", "rwcu", "r---", "----", "----"),
    ("integration.backend",                "----", "r---", "rwcu", "r---", "r---", "----"),
    ("integration.binding",                "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.charge",                 "----", "r---", "r---", "rw--", "----", "----"),
    ("integration.code.kind",              "r---", "r---", "rwcu", "r---", "r---", "r---"),
    ("integration.code.map",               "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.code.map.wizard",        "rwc-", "rwc-", "rwc-", "rwc-", "rwc-", "rwc-"),
    ("integration.domain",                 "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.endpoint",               "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.endpoint.secret",        "----", "----", "rwcu", "----", "----", "----"),
    ("integration.event.type",             "----", "r---", "rwcu", "----", "----", "----"),
    # Exceptions: nobody opens or deletes one; what it is about is the hub's to write.
    ("integration.exception",              "----", "rw--", "rw--", "rw--", "rw--", "rw--"),
    ("integration.exception.rule",         "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.feed",                   "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.import",                 "----", "r---", "rwcu", "----", "----", "----"),
    # Issues: every employee, limited by the rules of the exceptions and messages grouped.
    ("integration.issue",                  "r---", "r---", "r---", "r---", "r---", "r---"),
    ("integration.issue.confirm",          "rwc-", "rwc-", "rwc-", "rwc-", "rwc-", "rwc-"),
    ("integration.message",                "----", "r---", "rw--", "r---", "r---", "r---"),
    ("integration.message.attempt",        "----", "r---", "r---", "r---", "r---", "r---"),
    ("integration.message.bulk",           "----", "----", "rwcu", "----", "----", "----"),
    ("integration.message.bulk.run",       "----", "----", "rwc-", "----", "----", "----"),
    ("integration.reconciliation.report",  "----", "----", "----", "r---", "----", "----"),
    ("integration.review.rule",            "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.subscription",           "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.supply.consumption",     "----", "r---", "rwcu", "----", "r---", "----"),
    ("integration.supply.replenishment",   "----", "r---", "rwcu", "----", "r---", "----"),
    # Teams: managers configure them; every employee reads them (an exception's team,
    # "My exceptions").
    ("integration.team",                   "r---", "r---", "rwcu", "r---", "r---", "r---"),
    ("integration.workforce.gap",          "----", "r---", "r---", "----", "----", "r---"),
    ("integration.workforce.link",         "----", "r---", "rwcu", "----", "----", "----"),
    ("integration.workforce.report",       "----", "r---", "r---", "----", "----", "r---"),
]  # fmt: skip

# The flows whose messages, attempts and exceptions each role reads (None: no access).
FLOWS = {
    "internal": None,
    "hub_user": {"contacts", "billing", "supply", "workforce"},
    "hub_manager": {"contacts", "billing", "supply", "workforce"},
    "invoicing": {"billing"},
    "stock": {"supply"},
    "hr": {"workforce"},
    "other_company": {"billing (other company)"},
}

# The actions that act with elevated rights, on the billing flow's records.
ACTIONS = [
    # action            internal hub_user hub_manager invoicing stock  hr     other_company
    ("replay",          False,   False,   True,       False,    False, False, False),
    ("cancel",          False,   False,   True,       False,    False, False, False),
    ("retry",           False,   True,    True,       True,     False, False, False),
    ("ignore",          False,   True,    True,       True,     False, False, False),
    ("map_code",        False,   False,   True,       True,     False, False, False),
    ("send_test_event", False,   False,   True,       False,    False, False, False),
    ("close_circuit",   False,   False,   True,       False,    False, False, False),
]  # fmt: skip

# Who sees the patients the billing flow creates.
PATIENTS = {
    "internal": False,
    "hub_user": True,
    "hub_manager": True,
    "invoicing": True,
    "stock": False,
    "hr": False,
    "other_company": False,
}


@tagged("post_install", "-at_install")
class TestAccessMatrix(RpcMixin, IntegrationHubCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.users = {
            role: new_test_user(cls.env, f"matrix_{role}", groups=groups)
            for role, groups in ROLES.items()
        }
        cls.other_company = cls.env["res.company"].create({"name": "Southside clinics"})
        cls.users["other_company"] = new_test_user(
            cls.env,
            "matrix_other_company",
            groups=OTHER_COMPANY,
            company_id=cls.other_company.id,
            company_ids=[(6, 0, cls.other_company.ids)],
        )
        cls.endpoints = {
            flow: cls.env.ref(f"integration_hub_demo.integration_endpoint_{name}_demo")
            for flow, name in (
                ("contacts", "contacts"),
                ("billing", "billing"),
                ("supply", "supply"),
                ("workforce", "workforce"),
            )
        }
        other_backend = cls._create_backend(
            name="Southside billing", company_id=cls.other_company.id
        )
        charge_type = cls.env.ref("integration_hub_billing.integration_event_type_charge_captured")
        cls.contact_type = charge_type  # the factory's default event type
        cls.endpoints["billing (other company)"] = cls._create_endpoint(
            other_backend, secret=None, event_type_ids=[(6, 0, charge_type.ids)]
        )
        cls.event_types = {
            "contacts": "contact.upserted",
            "billing": "charge.captured",
            "supply": "supply.consumed",
            "workforce": "employee.upserted",
            "billing (other company)": "charge.captured",
        }
        cls.service = cls.env["product.product"].create({"name": "Matrix visit", "sale_ok": True})

    # Fixtures ----------------------------------------------------------------

    def _failed_message(self, flow, error=None):
        """A message of ``flow`` whose processing opened an exception, with its attempt."""
        event_type = self.env["integration.event.type"].search(
            [("code", "=", self.event_types[flow]), ("direction", "=", "in")], limit=1
        )
        endpoint = self.endpoints[flow]
        body = json.dumps({"type": event_type.code, "data": {"id": uuid.uuid4().hex}})
        message = self.env["integration.message"].create(
            {
                "backend_id": endpoint.backend_id.id,
                "endpoint_id": endpoint.id,
                "event_type": event_type.code,
                "event_type_id": event_type.id,
                "sender_message_id": f"msg_{uuid.uuid4().hex}",
                "payload": body,
                "payload_sha256": payload.sha256(body.encode()),
                "state": "exception",
            }
        )
        self.env["integration.message.attempt"].create(
            {
                "message_id": message.id,
                "number": 1,
                "start_date": datetime.now(),
                "outcome": "exception",
                "error": "Unmapped code",
            }
        )
        self.env["integration.exception"]._open_for(
            message, error or IntegrationBusinessError("The data is not valid.")
        )
        return message

    def _assert_refused(self, ok, result, what):
        self.assertFalse(ok, what)
        self.assertEqual(result, ACCESS_ERROR, what)

    # Tables ------------------------------------------------------------------

    def test_every_model_of_the_hub_by_role(self):
        hub_models = {
            name
            for name in self.env.registry
            if name.startswith("integration.") and not self.env[name]._abstract
        }
        self.assertEqual({row[0] for row in MODELS}, hub_models, "one row per model of the hub")
        operations = dict(zip("rwcu", ("read", "write", "create", "unlink"), strict=True))
        for model, *permissions in MODELS:
            for role, expected in zip(ROLES, permissions, strict=True):
                user = self.users[role]
                for letter, operation in operations.items():
                    allowed = expected["rwcu".index(letter)] == letter
                    with self.subTest(model=model, role=role, operation=operation):
                        ok, result = self._rpc(user, model, "has_access", [], operation)
                        self.assertTrue(ok, result)
                        self.assertEqual(result, allowed)
                if "r" not in expected:
                    with self.subTest(model=model, role=role, operation="search_read"):
                        ok, result = self._rpc(user, model, "search_read", [], ["id"], limit=1)
                        self._assert_refused(ok, result, f"{role} reads {model}")

    def test_each_role_reads_the_messages_and_exceptions_of_its_flows(self):
        messages = {flow: self._failed_message(flow) for flow in self.event_types}
        by_id = {message.id: flow for flow, message in messages.items()}
        ids = list(by_id)
        for role, expected in FLOWS.items():
            user = self.users[role]
            for model, field in (
                ("integration.message", "id"),
                ("integration.message.attempt", "message_id"),
                ("integration.exception", "message_id"),
            ):
                with self.subTest(role=role, model=model):
                    ok, rows = self._rpc(user, model, "search_read", [(field, "in", ids)], [field])
                    if expected is None:
                        self._assert_refused(ok, rows, f"{role} reads {model}")
                        continue
                    self.assertTrue(ok, rows)
                    seen = {
                        by_id[row[field][0] if isinstance(row[field], list) else row[field]]
                        for row in rows
                    }
                    self.assertEqual(seen, expected)
            # A flow's message read by id, not searched: refused too.
            hidden = [m for flow, m in messages.items() if expected and flow not in expected]
            for message in hidden[:1]:
                with self.subTest(role=role, read="payload"):
                    ok, result = self._rpc(
                        user, "integration.message", "read", message.ids, ["payload"]
                    )
                    self._assert_refused(ok, result, f"{role} reads a payload of another flow")

    def _failure(self, event_type, state, error):
        """An open exception (``state`` "exception") or a dead message of ``event_type`` at
        the demo supply backend, failing with ``error``."""
        body = json.dumps({"type": event_type.code, "data": {"id": uuid.uuid4().hex}})
        message = self.env["integration.message"].create(
            {
                "backend_id": self.endpoints["supply"].backend_id.id,
                "direction": event_type.direction,
                "event_type": event_type.code,
                "event_type_id": event_type.id,
                "sender_message_id": f"msg_{uuid.uuid4().hex}",
                "payload": body,
                "payload_sha256": payload.sha256(body.encode()),
                "state": state,
                "last_error": error,
            }
        )
        if state == "exception":
            self.env["integration.exception"]._open_for(message, IntegrationBusinessError(error))
        return message

    def test_issue_counts_are_the_failures_each_role_can_open(self):
        """One backend, one event type code in two flows (inbound supply, outbound
        billing), one error: one fingerprint. Each role's Issues count what it can open."""
        inbound = self.env.ref("integration_hub_supply.integration_event_type_supply_consumed")
        # A billing flow's outbound event named like the supply flow's inbound one.
        outbound = self.env.ref(
            "integration_hub_billing.integration_event_type_invoice_posted_out"
        ).copy({"code": inbound.code})
        self.assertEqual(outbound.domain_id.code, "billing")
        error = "The data is not valid."
        failures = [
            self._failure(event_type, state, error)
            for event_type, state, times in (
                (inbound, "exception", 2),
                (outbound, "exception", 1),
                (inbound, "dead", 1),
                (outbound, "dead", 3),
            )
            for _ in range(times)
        ]
        self.env.flush_all()
        exceptions = self.env["integration.message"].concat(*failures).exception_ids
        dead = (
            self.env["integration.message"].concat(*failures).filtered(lambda m: m.state == "dead")
        )
        self.assertEqual(len(set(exceptions.mapped("fingerprint"))), 1)
        self.assertEqual(len(set(dead.mapped("failure_fingerprint"))), 1)
        fingerprints = [exceptions[0].fingerprint, dead[0].failure_fingerprint]
        for role, expected in (
            ("invoicing", (1, 3)),
            ("stock", (2, 1)),
            ("hub_user", (3, 4)),
        ):
            user = self.users[role]
            with self.subTest(role=role):
                ok, issues = self._rpc(
                    user,
                    "integration.issue",
                    "search_read",
                    [("fingerprint", "in", fingerprints)],
                    ["exception_count", "dead_count", "failure_count"],
                )
                self.assertTrue(ok, issues)
                counts = (
                    sum(issue["exception_count"] for issue in issues),
                    sum(issue["dead_count"] for issue in issues),
                )
                self.assertEqual(counts, expected)
                # Each row's figures are what opening it lists, as that role.
                for issue in issues:
                    ok, opened = self._rpc(
                        user, "integration.issue", "action_open_exceptions", [issue["id"]]
                    )
                    self.assertTrue(ok, opened)
                    ok, listed = self._rpc(
                        user, "integration.exception", "search_count", opened["domain"]
                    )
                    self.assertEqual(listed, issue["exception_count"])
                    ok, dead_ids = self._rpc(
                        user, "integration.issue", "read", [issue["id"]], ["message_ids"]
                    )
                    self.assertTrue(ok, dead_ids)
                    self.assertEqual(len(dead_ids[0]["message_ids"]), issue["dead_count"])
                    self.assertEqual(
                        issue["failure_count"], issue["exception_count"] + issue["dead_count"]
                    )

    def test_each_role_opens_the_forms_of_its_flow(self):
        """A screen a clerk cannot open is a bug: each flow role reads its exception and
        message with every field their form views show."""
        for role, flow in (("invoicing", "billing"), ("stock", "supply"), ("hr", "workforce")):
            message = self._failed_message(flow)
            for model, record in (
                ("integration.exception", message.exception_ids),
                ("integration.message", message),
            ):
                with self.subTest(role=role, model=model):
                    user = self.users[role]
                    ok, views = self._rpc(user, model, "get_views", [[False, "form"]])
                    self.assertTrue(ok, views)
                    fields = views["models"][model]["fields"]
                    spec = {
                        name: {"fields": {"display_name": {}}}
                        if field["type"] == "many2one"
                        else {}
                        for name, field in fields.items()
                    }
                    ok, rows = self._rpc(user, model, "web_read", record.ids, spec)
                    self.assertTrue(ok, rows)
                    self.assertEqual(rows[0]["id"], record.id)

    def _do(self, action, user):
        """Run ``action`` as ``user`` on fresh billing records: ``(ok, result)``."""
        billing = self.endpoints["billing"].backend_id
        if action in ("replay", "cancel"):
            message = self._failed_message("billing")
            return self._rpc(user, "integration.message", f"action_{action}", message.ids)
        if action in ("retry", "ignore"):
            exception = self._failed_message("billing").exception_ids
            return self._rpc(user, "integration.exception", f"action_{action}", exception.ids)
        if action == "map_code":
            code = f"SVC-{uuid.uuid4().hex[:6]}"
            message = self._failed_message("billing", UnmappedCodeError("service", code))
            ok, wizard_id = self._rpc(
                user,
                "integration.code.map.wizard",
                "create",
                {"exception_id": message.exception_ids.id, "res_id": self.service.id},
            )
            if not ok:
                return ok, wizard_id
            return self._rpc(
                user, "integration.code.map.wizard", "action_map_and_retry", [wizard_id]
            )
        if action == "send_test_event":
            billing.outbound_url = "https://receiver.example/hooks"
            return self._rpc(user, "integration.backend", "action_send_test_event", billing.ids)
        self.env.cr.execute(
            """INSERT INTO integration_backend_circuit (backend_id, state, failures, opened_at)
               VALUES (%s, 'open', 5, now() at time zone 'utc')
               ON CONFLICT (backend_id) DO UPDATE SET state = 'open', failures = 5""",
            (billing.id,),
        )
        return self._rpc(user, "integration.backend", "action_reset_circuit", billing.ids)

    def test_elevated_actions_by_role(self):
        roles = [*ROLES, "other_company"]
        for action, *allowed in ACTIONS:
            for role, expected in zip(roles, allowed, strict=True):
                with self.subTest(action=action, role=role):
                    ok, result = self._do(action, self.users[role])
                    if expected:
                        self.assertTrue(ok, result)
                    else:
                        self._assert_refused(ok, result, f"{role} {action}")

    def test_no_role_rewrites_what_an_exception_is_about(self):
        message = self._failed_message("billing")
        exception = message.exception_ids
        done = self._failed_message("billing")
        done.write({"state": "done"})
        forged = [
            {"message_id": done.id},
            {"state": "open"},
            {"explanation": "Nothing went wrong."},
            {"kind": "unmapped_code", "external_code": "99213"},
        ]
        for role in [*ROLES, "other_company"]:
            for values in forged:
                with self.subTest(role=role, fields=list(values)):
                    ok, result = self._rpc(
                        self.users[role], "integration.exception", "write", exception.ids, values
                    )
                    self._assert_refused(ok, result, f"{role} writes {list(values)}")
        exception.invalidate_recordset()
        self.assertEqual(
            (exception.message_id, exception.state, exception.kind),
            (message, "open", "validation"),
        )

    def test_patients_are_seen_by_billing_and_the_hub_only(self):
        body = (SAMPLES / "patient.upserted.json").read_bytes()
        response = self.url_open(
            "/integration/webhook/demo-billing",
            data=body,
            headers=signed_headers(body, secret=DEMO_SECRET),
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        patient = self.env["res.partner"].browse(message.result_res_id)
        self.assertEqual((message.state, patient.integration_patient), ("done", True))
        vendor = self.env["res.partner"].create({"name": "Matrix supplies Ltd", "is_company": True})
        for role, allowed in PATIENTS.items():
            user = self.users[role]
            with self.subTest(role=role):
                ok, rows = self._rpc(
                    user, "res.partner", "search_read", [("id", "=", patient.id)], ["name"]
                )
                self.assertTrue(ok, rows)
                self.assertEqual(bool(rows), allowed)
                ok, result = self._rpc(user, "res.partner", "read", patient.ids, ["email"])
                if allowed:
                    self.assertEqual(result[0]["email"], patient.email)
                else:
                    self._assert_refused(ok, result, f"{role} reads a patient")
                ok, names = self._rpc(user, "res.partner", "name_search", patient.name)
                self.assertEqual(bool(ok and names), allowed)
                if role != "other_company":
                    # Other contacts stay as they were.
                    ok, rows = self._rpc(
                        user, "res.partner", "search_read", [("id", "=", vendor.id)], ["name"]
                    )
                    self.assertEqual((ok, len(rows)), (True, 1))
